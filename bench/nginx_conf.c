/* nginx_conf.c: write nginx.conf for the nchan side of the bench (see nginx_conf.h). */
#include "nginx_conf.h"

#include <string.h>

/* The subscriber locations: path and nchan_subscriber type, one row each. */
static const struct {
    const char *path;
    const char *type;
    const char *first; /* nchan_subscriber_first_message */
} locations[] = {
    {"/sub/events", "eventsource", "newest"},
    {"/sub/ws", "websocket", "newest"},
    {"/sub/poll", "intervalpoll", "oldest"},
    {"/sub/longpoll", "longpoll", "newest"},
};

/* 1 when s is non-empty and holds nothing nginx's config syntax would interpret. A user
 * may hold one blank, between user and group. */
static int safe_word(const char *s, int blanks_allowed)
{
    if (!s || !*s)
        return 0;
    for (const char *p = s; *p; p++) {
        if (*p == ' ' && blanks_allowed-- > 0)
            continue;
        if (strchr(" \t\r\n\"';{}$#\\", *p) || (unsigned char)*p < 0x20)
            return 0;
    }
    return 1;
}

int nginx_conf_write(struct dynbuf *out, const struct nginx_conf *c)
{
    if (!safe_word(c->dir, 0) || c->dir[0] != '/' || !safe_word(c->module, 0) ||
        (c->user && !safe_word(c->user, 1)) || c->port == 0 || c->port > 65535 ||
        c->workers == 0 || c->connections == 0 || c->buffer == 0)
        return -1;
    const char *d = c->dir;
    int rc = 0;
    rc |= dynbuf_addf(out,
                      "# written by pushpull-bench: nginx + nchan beside the lab server\n"
                      "load_module %s;\n",
                      c->module);
    if (c->user)
        rc |= dynbuf_addf(out, "user %s;\n", c->user);
    rc |= dynbuf_addf(out,
                      "daemon off;\n"
                      "worker_processes %u;\n"
                      "worker_rlimit_nofile %u;\n"
                      "pid %s/nginx.pid;\n"
                      "lock_file %s/nginx.lock;\n"
                      "error_log %s/error.log warn;\n"
                      "events {\n"
                      "    worker_connections %u;\n"
                      "}\n"
                      "http {\n",
                      c->workers, c->connections, d, d, d, c->connections);
    if (c->access_log)
        rc |= dynbuf_addf(out, "    access_log %s/access.log;\n", d);
    else
        rc |= dynbuf_adds(out, "    access_log off;\n");
    static const char *const temps[] = {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"};
    for (size_t i = 0; i < sizeof(temps) / sizeof(temps[0]); i++)
        rc |= dynbuf_addf(out, "    %s_temp_path %s/temp/%s;\n", temps[i], d, temps[i]);
    rc |= dynbuf_addf(out,
                      "    server {\n"
                      "        listen 127.0.0.1:%u backlog=4096;\n"
                      "        nchan_message_buffer_length %u;\n",
                      c->port, c->buffer);
    for (size_t i = 0; i < sizeof(locations) / sizeof(locations[0]); i++)
        rc |= dynbuf_addf(out,
                          "        location = %s {\n"
                          "            nchan_subscriber %s;\n"
                          "            nchan_subscriber_first_message %s;\n"
                          "            nchan_channel_id bench;\n"
                          "        }\n",
                          locations[i].path, locations[i].type, locations[i].first);
    rc |= dynbuf_adds(out, "        location = /pub {\n"
                           "            nchan_publisher;\n"
                           "            nchan_channel_id bench;\n"
                           "        }\n"
                           "        location = /nchan_status {\n"
                           "            nchan_stub_status;\n"
                           "        }\n"
                           "    }\n"
                           "}\n");
    if (rc != 0) {
        dynbuf_free(out);
        return -1;
    }
    return 0;
}
