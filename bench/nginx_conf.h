/* nginx_conf.h: the nginx + nchan configuration the bench runs beside the lab server.
 *
 * One channel ("bench") served the four ways nchan offers, each on its own location, so a
 * client asks for exactly one subscriber type:
 *   /sub/events    EventSource (text/event-stream; resumes with Last-Event-ID)
 *   /sub/ws        WebSocket (one text frame per message)
 *   /sub/poll      interval polling: 200 with the message and its Last-Modified + ETag,
 *                  304 when If-Modified-Since + If-None-Match name the newest
 *   /sub/longpoll  long polling: held until the message after the one named by
 *                  If-Modified-Since + If-None-Match (the next one, without them)
 *   /pub           publisher: POST a body to publish it
 *   /nchan_status  nchan_stub_status: "subscribers: N" over all workers (the channel info
 *                  a GET on /pub gives is one worker's view, and lags)
 * Streams and long polls start at the next message (nchan_subscriber_first_message
 * newest), as the lab server's do; the interval poll starts at the oldest kept, which is
 * the newest with the buffer the bench uses.
 *
 * Everything nginx writes is under the prefix directory: pid, logs, temp paths (in
 * DIR/temp, which the caller creates), lock.
 * It listens on 127.0.0.1 only and runs in the foreground (daemon off), so the process
 * the bench starts is the master and is stopped by its pid. The system's nginx config and
 * service are never read or touched: the bench starts `nginx -p DIR -c DIR/nginx.conf -e
 * DIR/error.log`.
 */
#ifndef PUSHPULL_BENCH_NGINX_CONF_H
#define PUSHPULL_BENCH_NGINX_CONF_H

#include "dynbuf.h"

/* Debian's path for libnginx-mod-nchan. */
#define NGINX_NCHAN_MODULE "/usr/lib/nginx/modules/ngx_nchan_module.so"

struct nginx_conf {
    const char *dir;    /* prefix directory (absolute): every file nginx writes is in it */
    const char *module; /* the nchan module to load (NGINX_NCHAN_MODULE) */
    unsigned port;      /* TCP port on 127.0.0.1 */
    unsigned workers;   /* worker_processes */
    unsigned connections; /* worker_connections, and worker_rlimit_nofile */
    unsigned buffer;      /* nchan_message_buffer_length: messages kept for cursors */
    const char *user;     /* "USER GROUP" for the workers (started as root), or NULL */
    int access_log;       /* 1: DIR/access.log; 0: access_log off (the lab server keeps
                             none, and a log line per request would be counted against
                             nginx in the polling workload) */
};

/* Append the whole nginx.conf for c to out. Returns 0, or -1 when a path or the user
 * holds a character nginx would read as syntax (blank, quote, ;, {, }, $, #, \) or is
 * empty, a number is 0, or out refuses (its contents are then freed). */
int nginx_conf_write(struct dynbuf *out, const struct nginx_conf *c);

#endif
