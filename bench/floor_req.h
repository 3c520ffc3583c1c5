/* floor_req.h: the little of an HTTP/1.1 request head the floor server needs.
 *
 * Transport-free: it is handed the bytes a connection has gathered and says whether a
 * whole head is there, how long it is, and the three things the floor answers by (the
 * method, the path, If-None-Match) plus the body's length. It copies nothing: the
 * fields point into the caller's buffer and live as long as those bytes do.
 */
#ifndef PUSHPULL_BENCH_FLOOR_REQ_H
#define PUSHPULL_BENCH_FLOOR_REQ_H

#include <stddef.h>
#include <stdint.h>

/* A span of the caller's buffer. */
struct floor_span {
    const char *p;
    size_t len;
};

struct floor_req {
    size_t head_len;           /* bytes up to and including the blank line */
    struct floor_span method;  /* "GET", "POST", ... */
    struct floor_span path;    /* the target up to '?' */
    struct floor_span if_none; /* If-None-Match's value, len 0 when absent */
    uint64_t content_length;   /* the body's bytes, 0 when absent */
};

enum floor_parse { FLOOR_MORE = 0, FLOOR_HEAD = 1, FLOOR_BAD = -1, FLOOR_TOO_BIG = -2 };

/* Parse the head at the start of buf[0..len). FLOOR_HEAD with *r filled; FLOOR_MORE when
 * the blank line has not come yet and len < max; FLOOR_TOO_BIG when max bytes hold no
 * whole head; FLOOR_BAD for a request line or header the floor cannot read (no HTTP/1.x
 * version, a line without ':', a Content-Length that is not a number, chunked bodies). */
enum floor_parse floor_req_parse(const char *buf, size_t len, size_t max,
                                 struct floor_req *r);

#endif
