/* redis_conn.c: one connection to Redis, with bounded waits (see redis_conn.h).
 *
 * hiredis sets TCP_NODELAY on the sockets it opens, so a command leaves at once. A
 * failed command leaves the context in its error state (c->err): hiredis does not
 * recover a connection, and neither do we; the caller opens a new one.
 */
#include "redis_conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

int redis_addr_parse(const char *s, struct redis_addr *a, char *err, size_t errlen)
{
    const char *colon = strrchr(s, ':');
    size_t host_len = colon ? (size_t)(colon - s) : 0;
    char *end = NULL;
    unsigned long port = 0;
    if (colon && colon[1] >= '0' && colon[1] <= '9') {
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
    }
    if (host_len == 0 || host_len >= sizeof(a->host) || !end || *end != '\0' ||
        errno != 0 || port == 0 || port > 65535 || memchr(s, ' ', host_len)) {
        snprintf(err, errlen, "expected HOST:PORT such as 127.0.0.1:6379, got \"%.80s\"",
                 s);
        return -1;
    }
    memcpy(a->host, s, host_len);
    a->host[host_len] = '\0';
    a->port = (unsigned)port;
    return 0;
}

static struct timeval ms_timeval(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

redisContext *redis_conn_open(const struct redis_addr *a, int connect_ms, int reply_ms,
                              char *err, size_t errlen)
{
    redisContext *c =
        redisConnectWithTimeout(a->host, (int)a->port, ms_timeval(connect_ms));
    if (!c) {
        snprintf(err, errlen, "connecting to %s:%u: out of memory", a->host, a->port);
        return NULL;
    }
    if (c->err) {
        snprintf(err, errlen, "connecting to %s:%u: %s", a->host, a->port, c->errstr);
        redisFree(c);
        return NULL;
    }
    if (reply_ms > 0 && redisSetTimeout(c, ms_timeval(reply_ms)) != REDIS_OK) {
        snprintf(err, errlen, "setting a %d ms reply timeout on %s:%u: %s", reply_ms,
                 a->host, a->port, c->errstr);
        redisFree(c);
        return NULL;
    }
    return c;
}

redisReply *redis_conn_command(redisContext *c, int argc, const char **argv,
                               const size_t *lens, char *err, size_t errlen)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    if (!r) {
        /* hiredis says "Resource temporarily unavailable" for a reply timeout */
        snprintf(err, errlen, "%s: %s", argv[0],
                 c->err == REDIS_ERR_EOF ? "the server closed the connection"
                 : c->err == REDIS_ERR_IO && strcmp(c->errstr, strerror(EAGAIN)) == 0
                     ? "no reply in time"
                     : c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR)
        snprintf(err, errlen, "%s: %.*s", argv[0], (int)(r->len > 200 ? 200 : r->len),
                 r->str);
    return r;
}
