/* redis_harness.c: redis-server and server instances for the tests (see redis_harness.h).
 */
#include "redis_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "loopback.h"

static int write_config(const struct redis_proc *r)
{
    char path[300];
    snprintf(path, sizeof(path), "%s/redis.conf", r->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "redis_harness: fopen %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# written by tests/redis_harness.c for one test; removed after it\n"
            "bind 127.0.0.1\n"
            "port %u\n"
            "daemonize no\n"
            "supervised no\n"
            "save \"\"\n"
            "appendonly %s\n"
            "appendfsync everysec\n"
            "dir %s\n"
            "logfile %s/redis.log\n",
            r->port, r->aof ? "yes" : "no", r->dir, r->dir);
    return fclose(f) == 0 ? 0 : -1;
}

redisContext *redis_harness_connect(const struct redis_proc *r)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", (int)r->port, tv);
    if (c && c->err) {
        redisFree(c);
        return NULL;
    }
    if (c)
        redisSetTimeout(c, tv);
    return c;
}

/* Wait until it answers PING: 0, or -1 when it exited or stayed silent for 10 s. */
static int wait_ready(struct redis_proc *r)
{
    int64_t end = harness_now_ms() + 10000;
    while (harness_now_ms() < end) {
        if (proc_poll(&r->proc))
            return -1;
        redisContext *c = redis_harness_connect(r);
        redisReply *rep = c ? redisCommand(c, "PING") : NULL;
        bool ok = rep && rep->type == REDIS_REPLY_STATUS && strcmp(rep->str, "PONG") == 0;
        if (rep)
            freeReplyObject(rep);
        if (c)
            redisFree(c);
        if (ok)
            return 0;
        harness_sleep_ms(20);
    }
    return -1;
}

int redis_harness_restart(struct redis_proc *r)
{
    const char *bin = getenv("PUSHPULL_REDIS_SERVER");
    char conf[300], err[512];
    snprintf(conf, sizeof(conf), "%s/redis.conf", r->dir);
    const char *argv[] = {bin ? bin : "/usr/bin/redis-server", conf, NULL};
    /* it logs to DIR/redis.log (appending, so a restart keeps the first run's lines) */
    struct proc_spec spec = {
        .argv = argv, .name = "redis-server", .out = PROC_DEVNULL, .err = PROC_DEVNULL};
    if (proc_start(&r->proc, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "redis_harness: %s\n", err);
        return -1;
    }
    if (wait_ready(r) != 0) {
        char how[128];
        proc_stop(&r->proc, 1000);
        proc_describe(&r->proc, how, sizeof(how));
        fprintf(stderr,
                "redis_harness: redis-server on port %u never answered PING (it %s)\n",
                r->port, how);
        return -1;
    }
    return 0;
}

int redis_harness_start(struct redis_proc *r, bool aof)
{
    memset(r, 0, sizeof(*r));
    proc_init(&r->proc);
    r->aof = aof;
    snprintf(r->dir, sizeof(r->dir), "/tmp/pushpull-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        fprintf(stderr, "redis_harness: mkdtemp: %s\n", strerror(errno));
        r->dir[0] = '\0';
        return -1;
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        r->port = loopback_free_port();
        snprintf(r->addr, sizeof(r->addr), "127.0.0.1:%u", r->port);
        if (r->port == 0 || write_config(r) != 0)
            break;
        if (redis_harness_restart(r) == 0)
            return 0; /* else the port was taken meanwhile: another */
    }
    redis_harness_cleanup(r);
    return -1;
}

void redis_harness_kill(struct redis_proc *r)
{
    if (proc_signal(&r->proc, SIGKILL) == 0)
        proc_wait(&r->proc, 10000);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void redis_harness_cleanup(struct redis_proc *r)
{
    if (r->proc.pid > 0) { /* a zeroed struct's descriptors are not its own */
        if (r->proc.running)
            proc_stop(&r->proc, 5000);
        proc_close(&r->proc);
    }
    if (r->dir[0])
        nftw(r->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    r->dir[0] = '\0';
}

long long redis_harness_int(const struct redis_proc *r, const char *fmt, ...)
{
    redisContext *c = redis_harness_connect(r);
    if (!c)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep)
        freeReplyObject(rep);
    redisFree(c);
    return v;
}

/* ---- server instances ----------------------------------------------------- */

int instance_start(struct instance *in, const char *dir, const char *name,
                   const char *const *args)
{
    const char *bin = getenv("PUSHPULL_SERVER");
    const char *argv[64];
    size_t n = 0;
    argv[n++] = bin ? bin : "build/asan/bin/pushpull-server";
    argv[n++] = "--port";
    argv[n++] = "0";
    for (size_t i = 0; args && args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    memset(in, 0, sizeof(*in));
    proc_init(&in->proc);
    snprintf(in->err_path, sizeof(in->err_path), "%s/%s.err", dir, name);
    char err[512];
    struct proc_spec spec = {.argv = argv,
                             .name = name,
                             .out = PROC_PIPE,
                             .err = PROC_FILE,
                             .err_path = in->err_path};
    if (proc_start(&in->proc, &spec, err, sizeof(err)) != 0) {
        fprintf(stderr, "redis_harness: %s\n", err);
        return -1;
    }
    in->port = harness_listening_port(&in->proc, "listening on http://");
    if (in->port == 0) {
        instance_stop(in);
        return -1;
    }
    return 0;
}

int instance_stop(struct instance *in)
{
    if (in->proc.pid <= 0)
        return -1; /* never started: a zeroed struct's descriptors are not its own */
    if (!in->proc.running) {
        proc_close(&in->proc);
        return -1;
    }
    int rc = proc_stop(&in->proc, 10000);
    proc_close(&in->proc);
    return rc;
}

int instance_log(const struct instance *in, struct dynbuf *out)
{
    dynbuf_reset(out);
    FILE *f = fopen(in->err_path, "r");
    if (!f)
        return -1;
    char buf[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(buf, 1, sizeof(buf), f)) > 0)
        rc = dynbuf_add(out, buf, n);
    fclose(f);
    return rc;
}

int instance_log_count(const struct instance *in, const char *needle)
{
    struct dynbuf b;
    dynbuf_init(&b, 1 << 24);
    int count = 0;
    if (instance_log(in, &b) == 0 && b.mem) {
        for (const char *p = b.mem; (p = strstr(p, needle)) != NULL; p += strlen(needle))
            count++;
    }
    dynbuf_free(&b);
    return count;
}
