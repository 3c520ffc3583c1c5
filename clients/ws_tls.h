/* ws_tls.h: TLS under the client's own WebSocket sockets (wss://), with OpenSSL.
 *
 * libcurl brings its own TLS for the HTTP techniques; the WebSocket runs its own
 * non-blocking socket (ws_conn.c), so it needs TLS of its own for the protocols that
 * reach the server through the front over TLS (https1, h2: a WebSocket there is still
 * HTTP/1.1, offered by ALPN as "http/1.1", since neither libcurl 7.88 nor most fronts do
 * RFC 8441's WebSocket over HTTP/2). One SSL_CTX per run trusts exactly --cacert (no
 * system store) and every connection verifies the front's certificate and its name (the
 * user's private host name, sent as SNI) as a browser would.
 *
 * The I/O functions behave like recv and send on a non-blocking socket: a positive count,
 * 0 at the peer's end (close_notify or a plain FIN), or -1 with errno EAGAIN when OpenSSL
 * needs the socket readable or writable (*want says which), or another errno on failure.
 * Partial writes are allowed, so a write of n bytes may take fewer, as send does.
 */
#ifndef PUSHPULL_WS_TLS_H
#define PUSHPULL_WS_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

/* The run's context, trusting exactly the PEM certificate cacert. Once, before any
 * connection (and before worker threads). 0, or -1 with one line in err. */
int ws_tls_init(const char *cacert, char *err, size_t errlen);
/* Free it (after every connection is closed). */
void ws_tls_free(void);
/* A TLS connection over the connected socket fd to host (SNI and the name checked), or
 * NULL (no context, or out of memory). */
SSL *ws_tls_new(int fd, const char *host);
/* One step of the handshake: 1 done, 0 not yet (*want: EPOLLIN or EPOLLOUT to wait for),
 * -1 failed (a bad certificate, a reset). */
int ws_tls_handshake(SSL *s, uint32_t *want);
/* As recv and send (see above); *want is set when -1 comes with EAGAIN. */
ssize_t ws_tls_read(SSL *s, uint8_t *buf, size_t cap, uint32_t *want);
ssize_t ws_tls_write(SSL *s, const uint8_t *buf, size_t len, uint32_t *want);
/* Send close_notify if the connection is up (best effort, never waited for) and free. */
void ws_tls_close(SSL *s);

#endif
