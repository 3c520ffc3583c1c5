/* servers.c: starting, publishing to and counting the lab server, nginx + nchan and the
 * floor. */
#include "servers.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "nginx_conf.h"

#define START_TIMEOUT_MS 10000
#define CTL_TIMEOUT_MS                                                                     \
    30000 /* a publish to 10,000 streams is answered once all are woken */

/* ---- the lab server --------------------------------------------------------------- */

/* Start argv (stdout a pipe, stderr into log) and read its "listening on
 * http://127.0.0.1:PORT" line: the lab server's way, and the floor's. */
static int start_listening(struct server *s, const char *const *argv, const char *name,
                           const char *log, char *err, size_t errlen)
{
    struct proc_spec spec = {
        .argv = argv, .name = name, .out = PROC_PIPE, .err = PROC_FILE, .err_path = log};
    if (proc_start(&s->proc, &spec, err, errlen) != 0)
        return -1;
    char line[256];
    const char *prefix = "listening on http://127.0.0.1:";
    if (proc_first_line(&s->proc, START_TIMEOUT_MS, line, sizeof(line), err, errlen) != 0)
        return -1;
    if (strncmp(line, prefix, strlen(prefix)) != 0) {
        snprintf(err, errlen, "%s did not say \"%s...\" (see %s)", argv[0], prefix, log);
        return -1;
    }
    s->port = (unsigned)strtoul(line + strlen(prefix), NULL, 10);
    return s->port ? 0 : -1;
}

static int pushpull_start(struct server *s, const struct server_opts *o, char *err,
                          size_t errlen)
{
    char threads[16], log[1200];
    snprintf(threads, sizeof(threads), "%u", o->threads);
    snprintf(log, sizeof(log), "%s/server.log", o->dir);
    /* No heartbeats (nchan sends none by default), long polls held as long as allowed
     * (nchan holds them until a message comes), room for 20,000 connections. */
    const char *argv[] = {o->server_bin, "--port",
                          "0",           "--rate",
                          "0",           "--heartbeat",
                          "0",           "--longpoll-timeout",
                          "120s",        "--max-connections",
                          "20000",       "--threads",
                          threads,       NULL};
    return start_listening(s, argv, "the lab server", log, err, errlen);
}

/* Held streams and long polls ("parked"), plus open WebSockets (transports.ws.open). */
static int pushpull_subscribers(struct server *s, uint64_t *n, char *err, size_t errlen)
{
    struct httpc_response r;
    if (httpc_request(&s->ctl, "GET", "/stats", NULL, NULL, 0, CTL_TIMEOUT_MS, &r, err,
                      errlen) != 0)
        return -1;
    cJSON *doc = r.status == 200 && r.body.mem
                     ? cJSON_ParseWithLength(r.body.mem, r.body.len)
                     : NULL;
    httpc_response_free(&r);
    const cJSON *parked = cJSON_GetObjectItemCaseSensitive(doc, "parked");
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "transports"), "ws"),
        "open");
    int rc = cJSON_IsNumber(parked) && cJSON_IsNumber(ws) ? 0 : -1;
    if (rc == 0)
        *n = (uint64_t)parked->valuedouble + (uint64_t)ws->valuedouble;
    else
        snprintf(err, errlen, "GET /stats: no numbers \"parked\" and transports.ws.open");
    cJSON_Delete(doc);
    return rc;
}

const struct server_kind bench_server_pushpull = {
    .name = "pushpull",
    .ep = {[BENCH_SSE] = {"/events", "sse"},
           [BENCH_LONG] = {"/longpoll", "long"},
           [BENCH_WS] = {"/ws", "ws"},
           [BENCH_POLL] = {"/poll", NULL}},
    .publish_path = "/publish",
    .stamps_itself = 1,
    .with_children = 0,
    .start = pushpull_start,
    .subscribers = pushpull_subscribers,
};

/* ---- nginx + nchan ------------------------------------------------------------------ */

static int write_file(const char *path, const char *text, size_t len, char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    return 0;
}

static int nchan_start(struct server *s, const struct server_opts *o, char *err,
                       size_t errlen)
{
    char conf_path[1200], temp[1200], elog[1200], slog[1200];
    snprintf(conf_path, sizeof(conf_path), "%s/nginx.conf", o->dir);
    snprintf(temp, sizeof(temp), "%s/temp", o->dir);
    snprintf(elog, sizeof(elog), "%s/error.log", o->dir);
    snprintf(slog, sizeof(slog), "%s/nginx.stderr", o->dir);
    struct nginx_conf c = {.dir = o->dir,
                           .module = NGINX_NCHAN_MODULE,
                           .port = httpc_free_port(),
                           .workers = o->threads,
                           .connections = 20000,
                           .buffer = 16,
                           .user = geteuid() == 0 ? "nobody nogroup" : NULL,
                           .access_log = 0};
    struct dynbuf text;
    dynbuf_init(&text, 1 << 16);
    if (nginx_conf_write(&text, &c) != 0) {
        snprintf(err, errlen, "nginx.conf for %s: a path nginx cannot take", o->dir);
        return -1;
    }
    int rc = write_file(conf_path, text.mem, text.len, err, errlen);
    dynbuf_free(&text);
    if (rc != 0)
        return -1;
    if (mkdir(temp, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "mkdir %s: %s", temp, strerror(errno));
        return -1;
    }
    const char *argv[] = {o->nginx_bin, "-p", o->dir, "-c", conf_path, "-e", elog, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "nginx",
                             .out = PROC_DEVNULL,
                             .err = PROC_FILE,
                             .err_path = slog};
    if (proc_start(&s->proc, &spec, err, errlen) != 0)
        return -1;
    s->port = c.port;
    int64_t deadline = clock_mono_ns() + START_TIMEOUT_MS * NS_PER_MS;
    while (httpc_wait_listening(s->port, 50) != 0) {
        if (proc_poll(&s->proc) || clock_mono_ns() > deadline) {
            snprintf(err, errlen, "nginx did not listen on 127.0.0.1:%u (see %s and %s)",
                     s->port, elog, slog);
            return -1;
        }
    }
    return 0;
}

static int nchan_subscribers(struct server *s, uint64_t *n, char *err, size_t errlen)
{
    struct httpc_response r;
    if (httpc_request(&s->ctl, "GET", "/nchan_status", NULL, NULL, 0, CTL_TIMEOUT_MS, &r,
                      err, errlen) != 0)
        return -1;
    const char *line =
        r.status == 200 && r.body.mem ? strstr(r.body.mem, "\nsubscribers: ") : NULL;
    if (line)
        *n = strtoull(line + strlen("\nsubscribers: "), NULL, 10);
    else
        snprintf(err, errlen, "GET /nchan_status: no \"subscribers:\" line");
    httpc_response_free(&r);
    return line ? 0 : -1;
}

const struct server_kind bench_server_nchan = {
    .name = "nchan",
    .ep = {[BENCH_SSE] = {"/sub/events", "sse"},
           [BENCH_LONG] = {"/sub/longpoll", "long-etag"},
           [BENCH_WS] = {"/sub/ws", "ws"},
           [BENCH_POLL] = {"/sub/poll", NULL}},
    .publish_path = "/pub",
    .stamps_itself = 0,
    .with_children = 1,
    .start = nchan_start,
    .subscribers = nchan_subscribers,
};

/* ---- the floor ---------------------------------------------------------------------- */

static int floor_start(struct server *s, const struct server_opts *o, char *err,
                       size_t errlen)
{
    char threads[16], log[1200];
    snprintf(threads, sizeof(threads), "%u", o->threads);
    snprintf(log, sizeof(log), "%s/floor.log", o->dir);
    const char *argv[] = {o->bench_bin, "floor", "--threads", threads, NULL};
    return start_listening(s, argv, "the floor server", log, err, errlen);
}

static int floor_subscribers(struct server *s, uint64_t *n, char *err, size_t errlen)
{
    (void)s;
    *n = 0;
    snprintf(err, errlen, "the floor server holds no subscribers");
    return -1;
}

const struct server_kind bench_server_floor = {
    .name = "floor",
    .ep = {[BENCH_POLL] = {"/poll", NULL}},
    .publish_path = "/pub",
    .stamps_itself = 0,
    .with_children = 0,
    .wrk_only = 1,
    .start = floor_start,
    .subscribers = floor_subscribers,
};

/* ---- common ------------------------------------------------------------------------- */

const struct server_kind *const bench_server_kinds[] = {
    &bench_server_pushpull, &bench_server_nchan, &bench_server_floor, NULL};

const struct server_kind *bench_server_kind_find(const char *name)
{
    for (int i = 0; bench_server_kinds[i]; i++)
        if (strcmp(bench_server_kinds[i]->name, name) == 0)
            return bench_server_kinds[i];
    return NULL;
}

int bench_server_start(struct server *s, const struct server_kind *k,
                       const struct server_opts *o, char *err, size_t errlen)
{
    memset(s, 0, sizeof(*s));
    s->kind = k;
    proc_init(&s->proc);
    httpc_init(&s->ctl, 0);
    if (k->start(s, o, err, errlen) != 0) {
        bench_server_stop(s);
        return -1;
    }
    httpc_init(&s->ctl, s->port);
    return 0;
}

int bench_server_stop(struct server *s)
{
    httpc_close(&s->ctl);
    int rc = proc_stop(&s->proc, 10000);
    proc_close(&s->proc);
    return rc;
}

int bench_server_url(const struct server *s, enum bench_approach a, char *out, size_t cap)
{
    const char *path = s->kind->ep[a].path;
    if (!path)
        return -1;
    snprintf(out, cap, "http://127.0.0.1:%u%s", s->port, path);
    return 0;
}

int bench_server_publish(struct server *s, unsigned data_bytes, int64_t due_ns, char *err,
                         size_t errlen)
{
    static const char filler[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct dynbuf body;
    dynbuf_init(&body, (size_t)data_bytes + 256);
    int64_t now = clock_real_ns();
    if (!s->kind->stamps_itself)
        dynbuf_addf(&body, "{\"seq\":%llu,\"ts_ns\":%lld,\"data\":\"",
                    (unsigned long long)s->published + 1, (long long)now);
    size_t start = body.len;
    dynbuf_addf(&body, "pub_ns=%lld;", (long long)(due_ns ? due_ns : now));
    for (size_t i = 0; body.len - start < data_bytes; i++)
        dynbuf_add(&body, &filler[i % (sizeof(filler) - 1)], 1);
    if (!s->kind->stamps_itself)
        dynbuf_adds(&body, "\"}");
    struct httpc_response r;
    int rc = -1;
    if (!body.mem) {
        snprintf(err, errlen, "publish: out of memory");
    } else if (httpc_request(&s->ctl, "POST", s->kind->publish_path, NULL, body.mem,
                             body.len, CTL_TIMEOUT_MS, &r, err, errlen) == 0) {
        if (r.status >= 200 && r.status < 300) {
            s->published++;
            rc = 0;
        } else {
            snprintf(err, errlen, "POST %s: status %d", s->kind->publish_path, r.status);
        }
        httpc_response_free(&r);
    }
    dynbuf_free(&body);
    return rc;
}

int bench_server_usage(const struct server *s, struct usage *u)
{
    return usage_read(s->proc.pid, s->kind->with_children, u);
}
