/* ws_tls.c: TLS under the client's WebSocket sockets (ws_tls.h), with OpenSSL's libssl.
 *
 * Modes: SSL_MODE_ENABLE_PARTIAL_WRITE and SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER make
 * SSL_write behave as send on a non-blocking socket (take what fits, and accept the rest
 * later from wherever the caller's buffer is by then: wslay hands its frames over in
 * pieces). SSL_OP_IGNORE_UNEXPECTED_EOF is left off: a front that drops the TCP
 * connection without close_notify is a cut, as it is for the plain WebSocket.
 */
#include "ws_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static SSL_CTX *ctx; /* the run's (owned here: ws_tls_free) */

int ws_tls_init(const char *cacert, char *err, size_t errlen)
{
    static const unsigned char alpn[] = "\x08http/1.1";
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "SSL_CTX_new: out of memory");
        return -1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx,
                     SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (SSL_CTX_load_verify_locations(ctx, cacert, NULL) != 1 ||
        SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1) != 0) {
        char why[160];
        ERR_error_string_n(ERR_get_error(), why, sizeof(why));
        snprintf(err, errlen, "--cacert %s: %s", cacert, why);
        ws_tls_free();
        return -1;
    }
    return 0;
}

void ws_tls_free(void)
{
    SSL_CTX_free(ctx);
    ctx = NULL;
}

SSL *ws_tls_new(int fd, const char *host)
{
    SSL *s = ctx ? SSL_new(ctx) : NULL;
    if (!s)
        return NULL;
    if (SSL_set_fd(s, fd) != 1 || SSL_set_tlsext_host_name(s, host) != 1 ||
        SSL_set1_host(s, host) != 1) {
        SSL_free(s);
        return NULL;
    }
    SSL_set_connect_state(s);
    return s;
}

/* After a failed call: -1 with errno EAGAIN and *want, or -1 with errno set, or 0 at
 * the peer's end. */
static ssize_t failed(SSL *s, int rc, uint32_t *want)
{
    switch (SSL_get_error(s, rc)) {
    case SSL_ERROR_WANT_READ:
        *want = EPOLLIN;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        *want = EPOLLOUT;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN: /* close_notify */
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || ERR_peek_error() == 0) { /* a FIN without close_notify */
            ERR_clear_error();
            return errno ? -1 : 0;
        }
        ERR_clear_error();
        return -1;
    default:
        ERR_clear_error();
        errno = EPROTO;
        return -1;
    }
}

int ws_tls_handshake(SSL *s, uint32_t *want)
{
    errno = 0;
    int rc = SSL_do_handshake(s);
    if (rc == 1)
        return 1;
    return failed(s, rc, want) < 0 && errno == EAGAIN ? 0 : -1;
}

ssize_t ws_tls_read(SSL *s, uint8_t *buf, size_t cap, uint32_t *want)
{
    size_t n = 0;
    errno = 0;
    int rc = SSL_read_ex(s, buf, cap, &n);
    return rc == 1 ? (ssize_t)n : failed(s, rc, want);
}

ssize_t ws_tls_write(SSL *s, const uint8_t *buf, size_t len, uint32_t *want)
{
    size_t n = 0;
    errno = 0;
    int rc = SSL_write_ex(s, buf, len, &n);
    return rc == 1 ? (ssize_t)n : failed(s, rc, want);
}

void ws_tls_close(SSL *s)
{
    if (!s)
        return;
    if (SSL_is_init_finished(s))
        (void)SSL_shutdown(s); /* close_notify, not waited for */
    SSL_free(s);
}
