/* sse_ts_api.c: the test service's control API on libmicrohttpd (see sse_ts_api.h).
 *
 * The two-phase access handler of the libmicrohttpd tutorial: the first call only
 * allocates the request's state (*req_cls), later calls collect the body into a capped
 * buffer, the last call answers; MHD_OPTION_NOTIFY_COMPLETED frees the state. Nothing
 * here blocks or touches libcurl: stream commands go to the worker's queue
 * (sse_ts_worker.h), which answers "known or not" at once, so no request is suspended.
 * One internal polling thread is plenty for a test harness's few requests a second.
 *
 * The create request is read by one parse-validate-extract function in cJSON's style:
 * every field is type-checked before use, null counts as absent, and the first bad field
 * is named in the 400 answer.
 */
#include "sse_ts_api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "dynbuf.h"
#include "jsonw.h"

#define API_MAX_BODY_BYTES                                                                 \
    ((size_t)4 * 1024 * 1024) /* a create request, headers and body */

/* What GET / advertises: only what this client does and the tests check.
 * "server-directed-shutdown-request": a 204 stops the client for good (eventsource.h). */
static const char capabilities_json[] =
    "{\"capabilities\":[\"comments\",\"headers\",\"last-event-id\",\"post\",\"report\","
    "\"read-timeout\",\"restart\",\"bom\",\"server-directed-shutdown-request\"]}";

struct sse_ts_api {
    struct MHD_Daemon *daemon;
    struct sse_ts_worker *worker; /* not owned */
    unsigned port;
};

/* Per-request state: the body so far. */
struct api_req {
    struct dynbuf body; /* owned; freed at completion */
    bool too_big;       /* the body went past API_MAX_BODY_BYTES */
};

/* ---- answers ------------------------------------------------------------ */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *json,
                             const char *location)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        json ? strlen(json) : 0, (void *)(json ? json : ""), MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (json)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* 4xx with {"error":"<msg>"}. */
static enum MHD_Result reply_error(struct MHD_Connection *conn, unsigned status,
                                   const char *msg)
{
    struct dynbuf b;
    dynbuf_init(&b, 4096);
    int rc = dynbuf_adds(&b, "{\"error\":");
    if (rc == 0)
        rc = jsonw_string(&b, msg, strlen(msg));
    if (rc == 0)
        rc = dynbuf_adds(&b, "}");
    enum MHD_Result res = reply(conn, status, rc == 0 ? b.mem : "{}", NULL);
    dynbuf_free(&b);
    return res;
}

/* ---- reading the create request ------------------------------------------ */

/* A copy of an optional string field into *out (NULL if absent or null). 0, or -1 with
 * a message when the field is of another type or memory runs out. */
static int opt_string(const cJSON *root, const char *name, char **out, char *err,
                      size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *out = NULL;
    if (!v || cJSON_IsNull(v))
        return 0;
    if (!cJSON_IsString(v) || !v->valuestring) {
        snprintf(err, errlen, "%s: expected a string", name);
        return -1;
    }
    *out = strdup(v->valuestring);
    if (!*out) {
        snprintf(err, errlen, "%s: strdup: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* An optional whole number of milliseconds, 0 to 1 hour; *out = dflt when absent. */
static int opt_ms(const cJSON *root, const char *name, int64_t dflt, int64_t *out,
                  char *err, size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, name);
    *out = dflt;
    if (!v || cJSON_IsNull(v))
        return 0;
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (d < 0 || d > 3600000 || d != (double)(int64_t)d) {
        snprintf(err, errlen,
                 "%s: expected a whole number of milliseconds from 0 to 3600000", name);
        return -1;
    }
    *out = (int64_t)d;
    return 0;
}

/* A header name is an RFC 9110 token; a value has no CR, LF or NUL. */
static bool header_ok(const char *name, const char *value)
{
    static const char tchar[] = "!#$%&'*+-.^_`|~";
    if (!name[0])
        return false;
    for (const char *p = name; *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool alnum =
            (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!alnum && !strchr(tchar, c))
            return false;
    }
    return strpbrk(value, "\r\n") == NULL;
}

/* The "headers" object, as "Name: value" lines. */
static int opt_headers(const cJSON *root, struct curl_slist **out, char *err, size_t errlen)
{
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(root, "headers");
    *out = NULL;
    if (!h || cJSON_IsNull(h))
        return 0;
    if (!cJSON_IsObject(h)) {
        snprintf(err, errlen, "headers: expected an object of strings");
        return -1;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, h)
    {
        if (!cJSON_IsString(item) || !item->string ||
            !header_ok(item->string, item->valuestring)) {
            snprintf(err, errlen,
                     "headers: \"%.64s\": expected a header name and a string "
                     "value without line breaks",
                     item->string ? item->string : "");
            goto fail;
        }
        struct dynbuf line;
        dynbuf_init(&line, 64 * 1024);
        struct curl_slist *t = NULL;
        if (dynbuf_addf(&line, "%s: %s", item->string, item->valuestring) == 0)
            t = curl_slist_append(*out, line.mem);
        dynbuf_free(&line);
        if (!t) {
            snprintf(err, errlen, "headers: out of memory or a header over 64 KiB");
            goto fail;
        }
        *out = t;
    }
    return 0;
fail:
    curl_slist_free_all(*out);
    *out = NULL;
    return -1;
}

/* An http:// URL, as far as a test service cares. */
static bool url_ok(const char *u)
{
    return strncmp(u, "http://", 7) == 0 && u[7] != '\0';
}

/* Parse, validate and extract a create request. Returns a config for the worker (the
 * caller passes it on or frees it with sse_ts_config_free), or NULL with the first bad
 * field named in err. */
static struct sse_ts_config *api_parse_create(const char *text, size_t len, char *err,
                                              size_t errlen)
{
    struct sse_ts_config *cfg = NULL;
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, errlen, "body: expected a JSON object");
        goto end;
    }
    cfg = calloc(1, sizeof(*cfg));
    if (!cfg) {
        snprintf(err, errlen, "calloc: %s", strerror(errno));
        goto end;
    }
    if (opt_string(root, "streamUrl", &cfg->stream_url, err, errlen) != 0)
        goto fail;
    if (!cfg->stream_url || !url_ok(cfg->stream_url)) {
        snprintf(err, errlen, "streamUrl: expected an http:// URL");
        goto fail;
    }
    if (opt_string(root, "callbackUrl", &cfg->callback_url, err, errlen) != 0)
        goto fail;
    if (!cfg->callback_url || !url_ok(cfg->callback_url)) {
        snprintf(err, errlen, "callbackUrl: expected an http:// URL");
        goto fail;
    }
    size_t n = strlen(cfg->callback_url); /* callbacks append "/N" */
    while (n > 7 && cfg->callback_url[n - 1] == '/')
        cfg->callback_url[--n] = '\0';
    if (opt_string(root, "lastEventId", &cfg->last_event_id, err, errlen) != 0)
        goto fail;
    if (cfg->last_event_id && strpbrk(cfg->last_event_id, "\r\n")) {
        snprintf(err, errlen, "lastEventId: expected no line breaks");
        goto fail;
    }
    if (opt_string(root, "method", &cfg->method, err, errlen) != 0)
        goto fail;
    if (cfg->method && !header_ok(cfg->method, "")) {
        snprintf(err, errlen, "method: expected an HTTP method such as GET or POST");
        goto fail;
    }
    if (opt_string(root, "body", &cfg->body, err, errlen) != 0)
        goto fail;
    if (opt_headers(root, &cfg->headers, err, errlen) != 0)
        goto fail;
    if (opt_ms(root, "initialDelayMs", -1, &cfg->initial_delay_ms, err, errlen) != 0)
        goto fail;
    if (opt_ms(root, "readTimeoutMs", 0, &cfg->read_timeout_ms, err, errlen) != 0)
        goto fail;
    goto end;
fail:
    sse_ts_config_free(cfg);
    cfg = NULL;
end:
    cJSON_Delete(root);
    return cfg;
}

/* ---- routes ------------------------------------------------------------- */

static enum MHD_Result api_create(struct sse_ts_api *api, struct MHD_Connection *conn,
                                  const struct api_req *rq)
{
    char err[256];
    struct sse_ts_config *cfg =
        api_parse_create(rq->body.mem ? rq->body.mem : "", rq->body.len, err, sizeof(err));
    if (!cfg)
        return reply_error(conn, 400, err);
    unsigned id = sse_ts_worker_create(api->worker, cfg);
    if (id == 0)
        return reply_error(conn, 500, "out of memory");
    char location[64];
    snprintf(location, sizeof(location), "/streams/%u", id);
    return reply(conn, 201, NULL, location);
}

/* The K of /streams/K, or 0 when the path is not of that form. */
static unsigned stream_id_of(const char *url)
{
    static const char prefix[] = "/streams/";
    if (strncmp(url, prefix, sizeof(prefix) - 1) != 0)
        return 0;
    const char *p = url + sizeof(prefix) - 1;
    unsigned long v = 0;
    if (*p < '1' || *p > '9')
        return 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9' || v > UINT_MAX / 10)
            return 0;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    return v <= UINT_MAX ? (unsigned)v : 0;
}

static enum MHD_Result api_command(struct sse_ts_api *api, struct MHD_Connection *conn,
                                   unsigned id, const struct api_req *rq)
{
    cJSON *root = cJSON_ParseWithLength(rq->body.mem ? rq->body.mem : "", rq->body.len);
    const cJSON *cmd = root ? cJSON_GetObjectItemCaseSensitive(root, "command") : NULL;
    enum MHD_Result res;
    if (!cJSON_IsString(cmd) || !cmd->valuestring)
        res = reply_error(conn, 400, "command: expected a string");
    else if (strcmp(cmd->valuestring, "restart") != 0)
        res = reply_error(conn, 400, "command: only \"restart\" is supported");
    else if (sse_ts_worker_restart(api->worker, id) != 0)
        res = reply_error(conn, 404, "no such stream");
    else
        res = reply(conn, 204, NULL, NULL);
    cJSON_Delete(root);
    return res;
}

static enum MHD_Result api_route(struct sse_ts_api *api, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const struct api_req *rq)
{
    if (rq->too_big)
        return reply_error(conn, 413, "body: larger than 4 MiB");
    if (strcmp(url, "/") == 0) {
        if (strcmp(method, "GET") == 0)
            return reply(conn, 200, capabilities_json, NULL);
        if (strcmp(method, "POST") == 0)
            return api_create(api, conn, rq);
        if (strcmp(method, "DELETE") == 0) {
            kill(getpid(), SIGTERM); /* main's sigwait runs the orderly stop */
            return reply(conn, 200, NULL, NULL);
        }
        return reply_error(conn, 405, "/ takes GET, POST or DELETE");
    }
    unsigned id = stream_id_of(url);
    if (id == 0)
        return reply_error(conn, 404, "no such path; try / or /streams/K");
    if (strcmp(method, "POST") == 0)
        return api_command(api, conn, id, rq);
    if (strcmp(method, "DELETE") == 0) {
        if (sse_ts_worker_delete(api->worker, id) != 0)
            return reply_error(conn, 404, "no such stream");
        return reply(conn, 204, NULL, NULL);
    }
    return reply_error(conn, 405, "/streams/K takes POST or DELETE");
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    (void)version;
    struct api_req *rq = *req_cls;
    if (!rq) { /* first call: headers only */
        rq = calloc(1, sizeof(*rq));
        if (!rq)
            return MHD_NO;
        dynbuf_init(&rq->body, API_MAX_BODY_BYTES);
        *req_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        if (!rq->too_big && dynbuf_add(&rq->body, upload_data, *upload_data_size) != 0)
            rq->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return api_route(cls, conn, url, method, rq);
}

/* Frees what on_access allocated, once the request is over. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct api_req *rq = *req_cls;
    if (!rq)
        return;
    dynbuf_free(&rq->body);
    free(rq);
    *req_cls = NULL;
}

struct sse_ts_api *sse_ts_api_start(const char *bind, unsigned port,
                                    struct sse_ts_worker *w, char *err, size_t errlen)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, bind, &sin.sin_addr) != 1) {
        snprintf(err, errlen, "--bind: expected an IPv4 address, got \"%s\"", bind);
        return NULL;
    }
    struct sse_ts_api *api = calloc(1, sizeof(*api));
    if (!api) {
        snprintf(err, errlen, "calloc: %s", strerror(errno));
        return NULL;
    }
    api->worker = w;
    api->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
        on_access, api, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, api, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!api->daemon) {
        snprintf(err, errlen, "MHD_start_daemon: cannot listen on %s:%u (%s)", bind, port,
                 strerror(errno));
        free(api);
        return NULL;
    }
    const union MHD_DaemonInfo *di =
        MHD_get_daemon_info(api->daemon, MHD_DAEMON_INFO_BIND_PORT);
    api->port = di ? di->port : port;
    return api;
}

unsigned sse_ts_api_port(const struct sse_ts_api *api)
{
    return api->port;
}

void sse_ts_api_stop(struct sse_ts_api *api)
{
    if (!api)
        return;
    MHD_stop_daemon(api->daemon);
    free(api);
}
