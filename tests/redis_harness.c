/* redis_harness.c: redis-server and server instances for the tests (see redis_harness.h).
 */
#include "redis_harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

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

int redis_harness_restart(struct redis_proc *r)
{
    char err[1024];
    if (broker_restart(&r->broker, err, sizeof(err)) != 0) {
        fprintf(stderr, "redis_harness: %s\n", err);
        return -1;
    }
    return 0;
}

int redis_harness_start(struct redis_proc *r, bool aof)
{
    memset(r, 0, sizeof(*r));
    broker_init(&r->broker);
    r->aof = aof;
    snprintf(r->dir, sizeof(r->dir), "/tmp/pushpull-redis-XXXXXX");
    if (!mkdtemp(r->dir)) {
        fprintf(stderr, "redis_harness: mkdtemp: %s\n", strerror(errno));
        r->dir[0] = '\0';
        return -1;
    }
    char err[1024];
    if (broker_start(&r->broker, broker_program(), r->dir, aof, err, sizeof(err)) != 0) {
        fprintf(stderr, "redis_harness: %s\n", err);
        redis_harness_cleanup(r);
        return -1;
    }
    r->port = r->broker.port;
    snprintf(r->addr, sizeof(r->addr), "%s", r->broker.addr);
    return 0;
}

void redis_harness_kill(struct redis_proc *r)
{
    if (proc_signal(&r->broker.proc, SIGKILL) == 0)
        proc_wait(&r->broker.proc, 10000);
}

void redis_harness_freeze(struct redis_proc *r, bool frozen)
{
    proc_signal(&r->broker.proc, frozen ? SIGSTOP : SIGCONT);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void redis_harness_cleanup(struct redis_proc *r)
{
    struct proc *p = &r->broker.proc;
    if (p->pid > 0) { /* a zeroed struct's descriptors are not its own */
        if (p->running) {
            proc_signal(p, SIGCONT); /* a test that failed while it was frozen */
            proc_stop(p, 5000);
        }
        proc_close(p);
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
