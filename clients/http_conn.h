/* http_conn.h: one user's HTTP/1.1 keep-alive connection on a socket of its own: the
 * client's raw driver for the HTTP techniques (short and long polling, SSE, the message
 * POSTs), beside libcurl's.
 *
 * Why a second driver: a long-poll cycle through libcurl's multi socket API cost about
 * 100 us of CPU (issue 14's profile, and ours: libcurl 36%, malloc and free 20%, the
 * kernel 37%, of which epoll_ctl to take the socket out of the set and put it back on
 * every transfer, and two zero-timeout poll() calls per request); 4,000 long-polling users
 * at 2 updates a second needed more than the one core the client had. This driver does
 * what a keep-alive page needs and nothing else: per cycle one send() of a head written
 * once into a buffer the user keeps, one recv() of the answer, read by the incremental
 * reader of http_reader.c, and no epoll_ctl (the socket stays watched for input while it is
 * open, so a server closing an idle connection is seen at once, as a browser sees it).
 * libcurl stays the driver for whatever needs more than plain HTTP/1.1 over TCP (TLS,
 * HTTP/2: issue 15); --http-driver chooses per run, and the transports (transport.h) are
 * the same for both.
 *
 * What it does like libcurl, so the two drivers count alike: one connection per user,
 * kept between requests while the server allows it (http_reader.h's keep-alive rule), a new
 * one otherwise; a request whose reused connection turns out closed before a byte of the
 * answer came is sent once more on a fresh connection (a server may close an idle
 * connection just as the request leaves: RFC 9112 section 9.3.1), counted as one request
 * whose head went out twice (as libcurl's CURLINFO_REQUEST_SIZE counts a retry); a
 * connect limited by --connect-timeout; the request and answer limits are user.c's.
 *
 * Bytes: every byte read crosses one function (conn_read) and every byte written one
 * other (conn_write), and each is counted there: written bytes as request head or body
 * by their offset in the request; read bytes are either body bytes, which the reader hands
 * on and user.c splits into payload and chunk framing (user_http_body), or else response
 * head bytes: status and header lines, and also anything a server sends that is no part of
 * an answer (bytes after an answer's end, a malformed head, bytes on an idle connection),
 * which then closes the connection. So the sums equal what crossed the socket, and the
 * kernel's account, read as the socket closes (user_socket_close), can be held against
 * them (bytes_check).
 */
#ifndef PUSHPULL_HTTP_CONN_H
#define PUSHPULL_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "dynbuf.h"
#include "http_reader.h"

struct user;

/* How a transfer ended, as far as the connection knows. */
enum http_end {
    HTTP_END_OK,      /* an answer was read to its end (or the transfer was stopped) */
    HTTP_END_CONNECT, /* no connection: refused, unreachable, or past --connect-timeout */
    HTTP_END_TIMEOUT, /* a time limit of user.c's passed (after the connection opened) */
    HTTP_END_IO       /* cut, reset, or an answer that is not HTTP */
};

struct http_conn {
    struct user *u;               /* the owner (its counters, loop slot, settings) */
    int fd;                       /* the socket, -1 when none */
    uint32_t watching;            /* epoll interest now; 0 = not in the set */
    bool connected;               /* connect() completed on fd */
    bool busy;                    /* a request is out and its answer not complete */
    bool reused;                  /* the request went on a connection that carried one */
    bool retried;                 /* it was sent again after such a connection closed */
    bool fin_seen;                /* a read returned end of file (user_socket_close) */
    int64_t connect_due;          /* the connect's limit (monotonic); 0 = not connecting */
    struct dynbuf req;            /* the request: head then body (owned) */
    size_t head_len;              /* the head's bytes in req */
    size_t req_sent;              /* bytes of req written */
    struct http_reader resp;      /* the answer's reader (owned) */
    uint64_t body_read;           /* body bytes the reader handed on, this connection */
    struct sockaddr_storage addr; /* the server */
    socklen_t addrlen;            /* its length */
};

/* Set up c for user u (the run's numeric server address and port). 0, or -1 when the
 * address is not numeric. Free with http_conn_free. */
int http_conn_init(struct http_conn *c, struct user *u);
/* Close the socket (its kernel account read first) and free the buffers. */
void http_conn_free(struct http_conn *c);
/* Send the request in c->req (head_len bytes of head, the rest body: the caller fills
 * them, then calls this): on the open connection, or on a new one. The transfer's end is
 * reported to user.c (user_http_end), possibly before this returns (a socket refused). */
void http_conn_send(struct http_conn *c);
/* The socket is ready (epoll events). */
void http_conn_io(struct http_conn *c, uint32_t events);
/* Stop the transfer in progress, if any, and close the connection (the rest of an answer
 * would be read as the next one's). Nothing is reported. */
void http_conn_stop(struct http_conn *c);

#endif
