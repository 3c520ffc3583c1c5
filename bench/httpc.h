/* httpc.h: one blocking HTTP/1.1 connection for the bench's own few requests.
 *
 * The conductor publishes, reads a server's subscriber count and checks a poll URL's
 * 200 and 304 before wrk runs: a handful of requests a second, on one kept-alive
 * connection to 127.0.0.1, each bounded in time. The response is read with the same
 * parser as the reference client's (http_resp.c).
 */
#ifndef PUSHPULL_BENCH_HTTPC_H
#define PUSHPULL_BENCH_HTTPC_H

#include <stddef.h>

#include "dynbuf.h"
#include "http_resp.h"

struct httpc {
    unsigned port; /* 127.0.0.1:port */
    int fd;        /* the kept-alive connection, or -1 (reopened on demand) */
};

/* Answers. */
struct httpc_response {
    int status;             /* status code */
    struct dynbuf body;     /* the body, de-chunked (httpc_response_free) */
    char etag[96];          /* ETag, "" if none */
    char last_modified[64]; /* Last-Modified, "" if none */
};

/* Set up (no connection yet). */
void httpc_init(struct httpc *h, unsigned port);
void httpc_close(struct httpc *h);
/* Send METHOD PATH with the extra header lines (each ending CRLF, may be NULL) and the
 * body (may be NULL), and read the answer within timeout_ms. The connection is opened
 * when needed and kept. 0; or -1 with a message naming the failed step in err (the
 * connection is then closed). The caller frees r with httpc_response_free. */
int httpc_request(struct httpc *h, const char *method, const char *path,
                  const char *headers, const char *body, size_t body_len, int timeout_ms,
                  struct httpc_response *r, char *err, size_t errlen);
void httpc_response_free(struct httpc_response *r);

/* 0 when something accepts connections on 127.0.0.1:port within timeout_ms. */
int httpc_wait_listening(unsigned port, int timeout_ms);
/* A free TCP port on 127.0.0.1 (bound and released at once), or 0. */
unsigned httpc_free_port(void);

#endif
