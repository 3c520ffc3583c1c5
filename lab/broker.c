/* broker.c: a run's redis-server, started and asked over a raw socket (see broker.h).
 *
 * The lab does not link hiredis for two commands: PING and INFO are written as inline
 * commands ("PING\r\n"), and their answers read as RESP says: a status line "+PONG", and a
 * bulk string "$LEN\r\n" followed by LEN bytes and CRLF. Every wait is bounded (a socket
 * timeout of a second per read, ten seconds in all for the start).
 *
 * The free port (common/loopback.h) may be taken by another program
 * before redis-server does; redis-server then exits at once ("Address already in use")
 * and the start is tried again on another port.
 */
#include "broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "loopback.h"

#define READY_TIMEOUT_MS 10000 /* redis-server's start, to its first PONG */
#define READ_TIMEOUT_MS  1000  /* one read of an answer */
#define START_ATTEMPTS   3     /* ports tried */
#define INFO_MAX         (1 << 20)

void broker_init(struct broker *b)
{
    memset(b, 0, sizeof(*b));
    proc_init(&b->proc);
}

const char *broker_program(void)
{
    const char *p = getenv("PUSHPULL_REDIS_SERVER");
    return p && p[0] ? p : "/usr/bin/redis-server";
}

/* Its address: host, or loopback. */
static const char *host_of(const struct broker *b)
{
    return b->host[0] ? b->host : "127.0.0.1";
}

/* A connection to it with READ_TIMEOUT_MS on every read and write, or -1. */
static int dial(const char *host, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct timeval tv = {.tv_sec = READ_TIMEOUT_MS / 1000,
                         .tv_usec = (READ_TIMEOUT_MS % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Send an inline command and read its answer into buf (at most cap - 1 bytes, NUL
 * terminated): a status or error line whole, or a bulk string's payload. Returns its
 * length, or -1 with why set. */
static long ask(const struct broker *b, const char *cmd, char *buf, size_t cap,
                const char **why)
{
    int fd = dial(host_of(b), b->port);
    if (fd < 0) {
        *why = "cannot connect";
        return -1;
    }
    long got = -1;
    size_t have = 0, need = 0;
    size_t len = strlen(cmd);
    *why = "no answer in time";
    if (write(fd, cmd, len) != (ssize_t)len)
        goto out;
    for (;;) {
        ssize_t n = read(fd, buf + have, cap - 1 - have);
        if (n <= 0)
            goto out;
        have += (size_t)n;
        buf[have] = '\0';
        char *eol = strstr(buf, "\r\n");
        if (!eol)
            continue;
        if (buf[0] != '$') { /* +PONG or -ERR ... */
            *eol = '\0';
            got = (long)(eol - buf);
            goto out;
        }
        long blen = strtol(buf + 1, NULL, 10);
        size_t head = (size_t)(eol + 2 - buf);
        if (blen < 0 || (size_t)blen + head + 2 > cap - 1) {
            *why = "an answer too long";
            goto out;
        }
        need = head + (size_t)blen + 2;
        if (have >= need) {
            memmove(buf, buf + head, (size_t)blen);
            buf[blen] = '\0';
            got = blen;
            goto out;
        }
    }
out:
    close(fd);
    return got;
}

static int write_config(const char *run_dir, const char *host, unsigned port, bool durable,
                        char *err, size_t errlen)
{
    char path[4200], data[4200];
    snprintf(data, sizeof(data), "%s/redis", run_dir);
    if (mkdir(data, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", data, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof(path), "%s/redis.conf", run_dir);
    /* protected mode refuses every peer but loopback; off a namespace's own address,
     * where only the run's other namespaces can reach it */
    bool loopback = strncmp(host, "127.", 4) == 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# written by the conductor (lab/broker.c) for this run only\n"
            "bind %s\n"
            "protected-mode %s\n"
            "port %u\n"
            "daemonize no\n"
            "supervised no\n"
            "save \"\"\n"
            "appendonly %s\n"
            "appendfsync everysec\n"
            "dir %s\n"
            "logfile \"\"\n",
            host, loopback ? "yes" : "no", port, durable ? "yes" : "no", data);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Wait until it answers PING. 0; 1 when it exited first (a port taken); -1 on timeout. */
static int wait_ready(struct broker *b)
{
    int64_t end = clock_mono_ns() + (int64_t)READY_TIMEOUT_MS * NS_PER_MS;
    while (clock_mono_ns() < end) {
        if (proc_poll(&b->proc))
            return 1;
        char buf[64];
        const char *why;
        if (ask(b, "PING\r\n", buf, sizeof(buf), &why) >= 0 && strcmp(buf, "+PONG") == 0)
            return 0;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return -1;
}

/* Start redis-server on the config in b->dir, its output in b->dir/OUT_NAME, and wait
 * until it answers PING. 0; 1 when it exited first (a port taken); -1 with err set. */
static int start_once(struct broker *b, const char *out_name, char *err, size_t errlen)
{
    char conf[4200], outf[4200], errf[4200];
    snprintf(conf, sizeof(conf), "%s/redis.conf", b->dir);
    snprintf(outf, sizeof(outf), "%s/%s.out", b->dir, out_name);
    snprintf(errf, sizeof(errf), "%s/%s.err", b->dir, out_name);
    struct runargs argv;
    runargs_init(&argv);
    if (b->prefix)
        runargs_add_all(&argv, b->prefix);
    runargs_add(&argv, b->program);
    runargs_add(&argv, conf);
    struct proc_spec spec = {.argv = (const char *const *)argv.v,
                             .name = "redis-server",
                             .out = PROC_FILE,
                             .out_path = outf,
                             .err = PROC_FILE,
                             .err_path = errf};
    proc_init(&b->proc);
    int started = argv.failed ? -1 : proc_start(&b->proc, &spec, err, errlen);
    runargs_free(&argv);
    if (started != 0)
        return -1;
    int rc = wait_ready(b);
    if (rc == 0)
        return 0;
    char how[96];
    proc_stop(&b->proc, 1000);
    proc_describe(&b->proc, how, sizeof(how));
    proc_close(&b->proc);
    snprintf(err, errlen, "%s on port %u did not answer PING within %d s (it %s; see %s)",
             b->program, b->port, READY_TIMEOUT_MS / 1000, how, outf);
    return rc;
}

int broker_start(struct broker *b, const char *redis_server, const char *run_dir,
                 bool durable, char *err, size_t errlen)
{
    snprintf(b->program, sizeof(b->program), "%s", redis_server);
    snprintf(b->dir, sizeof(b->dir), "%s", run_dir);
    for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
        b->port = loopback_free_port();
        if (b->port == 0) {
            snprintf(err, errlen, "no free loopback port for redis-server");
            return -1;
        }
        snprintf(b->addr, sizeof(b->addr), "%s:%u", host_of(b), b->port);
        if (write_config(run_dir, host_of(b), b->port, durable, err, errlen) != 0)
            return -1;
        int rc = start_once(b, "redis", err, errlen);
        if (rc <= 0)
            return rc; /* 1: the port was taken meanwhile; another */
    }
    return -1;
}

int broker_restart(struct broker *b, char *err, size_t errlen)
{
    return start_once(b, "redis-restarted", err, errlen) == 0 ? 0 : -1;
}

int broker_save_info(const struct broker *b, const char *path, char *err, size_t errlen)
{
    char *buf = malloc(INFO_MAX);
    if (!buf) {
        snprintf(err, errlen, "out of memory for Redis's INFO");
        return -1;
    }
    const char *why = "";
    long n = ask(b, "INFO\r\n", buf, INFO_MAX, &why);
    int rc = -1;
    FILE *f = NULL;
    if (n < 0) {
        snprintf(err, errlen, "INFO to redis-server at %s: %s", b->addr, why);
    } else if (!(f = fopen(path, "w"))) {
        snprintf(err, errlen, "fopen %s: %s", path, strerror(errno));
    } else {
        size_t w = fwrite(buf, 1, (size_t)n, f);
        rc = fclose(f) == 0 && w == (size_t)n ? 0 : -1;
        if (rc != 0)
            snprintf(err, errlen, "writing %s: %s", path, strerror(errno));
    }
    free(buf);
    return rc;
}
