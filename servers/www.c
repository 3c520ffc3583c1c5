/* www.c: the demo page's files: GET / is index.html, GET /www/NAME any file of --www.
 *
 * Deliberately small and strict, since it opens files: a NAME is one path component of
 * [A-Za-z0-9._-] that does not start with a dot (no "..", no subdirectories, no hidden
 * files), its Content-Type comes from a short table of extensions, and anything else is a
 * 404. Files are read whole per request (they are a few KiB, and the demo is a workshop
 * tool, not a CDN); Cache-Control: no-cache, as everywhere here.
 */
#include "server.h"
#include "reply.h"
#include "route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WWW_MAX_FILE (1024 * 1024)

static const struct {
    const char *ext;  /* extension, with the dot */
    const char *type; /* Content-Type */
} www_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static const char *www_type(const char *name)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(www_types) / sizeof(www_types[0]); i++) {
        if (strcmp(dot, www_types[i].ext) == 0)
            return www_types[i].type;
    }
    return NULL;
}

static bool www_name_ok(const char *name)
{
    if (name[0] == '\0' || name[0] == '.' || strlen(name) > 128)
        return false;
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* Send file NAME of the www directory, or a 404 naming what was wrong. */
static enum MHD_Result www_send(struct request *req, const char *name)
{
    const char *type = www_type(name);
    if (!www_name_ok(name) || !type) {
        char got[REPLY_QUOTE_SIZE];
        reply_quote(got, sizeof(got), name, strlen(name));
        return reply_error(req, 404, "no such file: /www/%s", got);
    }
    char path[2048];
    snprintf(path, sizeof(path), "%s/%s", req->srv->cfg.www, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return reply_error(req, 404,
                           "%s: %s (start the server from the repository root, or "
                           "pass --www DIR)",
                           path, strerror(errno));
    struct dynbuf body;
    dynbuf_init(&body, WWW_MAX_FILE);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = dynbuf_add(&body, chunk, n);
    fclose(f);
    if (rc != 0)
        return reply_error(req, 500, "%s: larger than %d bytes", path, WWW_MAX_FILE);
    enum MHD_Result res = reply_bytes(req, 200, type, body.mem, body.len);
    dynbuf_free(&body);
    return res;
}

static enum MHD_Result www_index_handle(struct request *req)
{
    return www_send(req, "index.html");
}

static enum MHD_Result www_file_handle(struct request *req)
{
    return www_send(req, req->path + strlen(www_file_route.path));
}

const struct route www_index_route = {
    .path = "/",
    .method = "GET",
    .kind = STATS_OTHER,
    .handle = www_index_handle,
    .done = NULL,
};

const struct route www_file_route = {
    .path = "/www/",
    .prefix = true,
    .method = "GET",
    .kind = STATS_OTHER,
    .handle = www_file_handle,
    .done = NULL,
};
