/* redis_conn.h: one connection to Redis for the feed through Redis: its address, opening
 * it with bounded waits, and what went wrong, in words.
 *
 * The feed uses hiredis's blocking API from two places (redis_follow.c's follower thread
 * and redis_publish.c's publish path), each with a connection of its own. Every wait is
 * bounded: connecting by connect_ms, every reply by reply_ms (a socket timeout), so a Redis
 * that hangs (stopped, or a dead host) is taken for gone instead of holding a thread
 * for ever.
 */
#ifndef PUSHPULL_REDIS_CONN_H
#define PUSHPULL_REDIS_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

/* Longest host name in an address. */
#define REDIS_HOST_MAX 256

/* Where Redis listens. */
struct redis_addr {
    char host[REDIS_HOST_MAX]; /* an IPv4 address or a host name */
    unsigned port;             /* 1 to 65535 */
};

/* Read "HOST:PORT" (HOST an IPv4 address or a name, PORT 1 to 65535) into a. 0, or -1
 * with a message in err saying what was expected. */
int redis_addr_parse(const char *s, struct redis_addr *a, char *err, size_t errlen);

/* Open a connection: connecting takes at most connect_ms, every reply at most reply_ms.
 * NULL with a message in err naming the address and what failed. The caller closes it
 * with redisFree. */
redisContext *redis_conn_open(const struct redis_addr *a, int connect_ms, int reply_ms,
                              char *err, size_t errlen);

/* Run one command given as argc strings (lens[i] bytes each; NULL lens: strlen). The
 * reply (the caller frees it with freeReplyObject), or NULL when the connection failed
 * (it is then unusable: redisFree it), with a message in err naming the command. A reply
 * of type REDIS_REPLY_ERROR is returned as a reply, with its text in err too. */
redisReply *redis_conn_command(redisContext *c, int argc, const char **argv,
                               const size_t *lens, char *err, size_t errlen);

#endif
