/* user_protocol.c: how a user's transfers speak the run's protocol (user_protocol.h).
 *
 * Everything --protocol changes in libcurl's handling of a user lives here: the HTTP
 * version asked for, TLS and the one certificate it trusts, waiting for a shared
 * connection, the workaround for libcurl 7.88's reuse of a prior-knowledge HTTP/2
 * connection, and the check that each answer came in the version asked for. user.c calls
 * the three functions at a user's set-up, before each transfer and after it. It also
 * counts what the HPACK figure needs (wire.h): each HTTP/2 response head's fields in
 * h2load's measure and its frames (user_protocol_head_line, from libcurl's header
 * callback), and, through OpenSSL's record callback on each TLS connection, the
 * plaintext of the application-data records received.
 */
#include "user_protocol.h"

#include <openssl/ssl.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* HTTP/2's maximum DATA frame payload unless the client raises it (RFC 9113 section
 * 4.2; libcurl 7.88 does not). */
#define H2_MAX_FRAME 16384
/* TLS 1.3 (RFC 8446 section 5.2): an application-data record's ciphertext is its
 * plaintext, one byte of inner content type and the AEAD tag (16 B for every suite
 * OpenSSL offers by default), with no padding unless the sender adds some. */
#define TLS13_RECORD_EXTRA 17

static bool is_h2(const struct user *u)
{
    return u->env->cfg->protocol == PROTO_H2 || u->env->cfg->protocol == PROTO_H2C;
}

/* The last record header this thread's OpenSSL read: its length. A record's header
 * and then (once decrypted) its inner content type are reported in one SSL_read, with no
 * other connection's records between, so one value per thread is enough. */
static _Thread_local size_t tls_record_len;

/* OpenSSL's message callback (SSL_CTX_set_msg_callback) on every TLS connection libcurl
 * opens for u: of each record received, the 5-byte header (SSL3_RT_HEADER) and, under
 * TLS 1.3, the inner content type once decrypted (SSL3_RT_INNER_CONTENT_TYPE). An
 * application-data record's plaintext (its length less TLS13_RECORD_EXTRA) is what
 * HTTP/2 read: the one count of tls_app_bytes_received. Handshake records (session
 * tickets too, which arrive as encrypted records) and alerts are left out. */
static void on_tls_record(int write_p, int version, int content_type, const void *buf,
                          size_t len, SSL *ssl, void *arg)
{
    (void)ssl;
    struct user *u = arg;
    const unsigned char *b = buf;
    if (write_p)
        return;
    if (content_type == SSL3_RT_HEADER && len == SSL3_RT_HEADER_LENGTH) {
        tls_record_len = (size_t)b[3] << 8 | b[4];
    } else if (content_type == SSL3_RT_INNER_CONTENT_TYPE && len == 1 &&
               version == TLS1_3_VERSION && b[0] == SSL3_RT_APPLICATION_DATA &&
               tls_record_len > TLS13_RECORD_EXTRA) {
        counters_add(u->ctr, CTR_TLS_APP_BYTES_RECEIVED,
                     tls_record_len - TLS13_RECORD_EXTRA, u->ctr->measuring);
        tls_record_len = 0;
    }
}

/* CURLOPT_SSL_CTX_FUNCTION: libcurl 7.88 makes one SSL_CTX per connection, so the
 * callback's argument is the user whose transfer opened it (whose counters hold its
 * kernel bytes too). */
static CURLcode on_ssl_ctx(CURL *easy, void *ctx, void *user)
{
    (void)easy;
    SSL_CTX_set_msg_callback(ctx, on_tls_record);
    SSL_CTX_set_msg_callback_arg(ctx, user);
    return CURLE_OK;
}

/* The protocol's libcurl settings (cli.h's enum protocol). HTTP/2 without TLS is by prior
 * knowledge (no Upgrade: h2c round trip, RFC 9113 section 3.3); over TLS it is asked for
 * by ALPN, and CURL_HTTP_VERSION_2TLS would quietly fall back to HTTP/1.1 if the front
 * declined, so the version libcurl got is checked after each transfer
 * (user_protocol_as_asked). TLS trusts exactly --cacert: CURLOPT_CAPATH is cleared, so the
 * system's store is never consulted, and the peer and its name are verified as a browser
 * would. Users that share a connection (--users-per-connection) wait for it under HTTP/2
 * (PIPEWAIT) rather than each opening a connection of its own while the first one is set
 * up. */
int user_protocol_setup(struct user *u, char *err, size_t errlen)
{
    const struct client_config *cfg = u->env->cfg;
    CURL *e = u->easy;
    long version = CURL_HTTP_VERSION_1_1;
    if (cfg->protocol == PROTO_H2C)
        version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    else if (cfg->protocol == PROTO_H2)
        version = CURL_HTTP_VERSION_2TLS;
    if (curl_easy_setopt(e, CURLOPT_HTTP_VERSION, version) != CURLE_OK) {
        snprintf(err, errlen, "--protocol %s: this libcurl has no HTTP/2",
                 cli_protocol_name(cfg->protocol));
        return -1;
    }
    if (cfg->users_per_connection > 1)
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    if (!cli_protocol_tls(cfg->protocol))
        return 0;
    if (curl_easy_setopt(e, CURLOPT_CAINFO, cfg->cacert) != CURLE_OK ||
        curl_easy_setopt(e, CURLOPT_CAPATH, NULL) != CURLE_OK) {
        snprintf(err, errlen, "--cacert %s: this libcurl has no TLS", cfg->cacert);
        return -1;
    }
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, u);
    return 0;
}

/* HTTP/2 without TLS, around a libcurl 7.88 bug: a transfer set to
 * CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE that reuses a connection already speaking HTTP/2
 * fails at once with CURLE_HTTP2 ("Error in the HTTP2 framing layer": curl issue
 * #10634, fixed in curl 8.0 by pull request #10643; Debian 12 ships 7.88.1). So prior
 * knowledge is asked only while the user's connection group has no socket open; a
 * transfer that will reuse one asks for CURL_HTTP_VERSION_2_0, which reuses it as
 * HTTP/2. (Should that connection be gone by then, 2_0 would open the next one with an
 * HTTP/1.1 Upgrade: h2c request, RFC 7540 section 3.2, and its response still arrives
 * over HTTP/2, so user_protocol_as_asked holds; the run's bytes then carry one upgrade.) */
void user_protocol_before(struct user *u)
{
    if (u->env->cfg->protocol != PROTO_H2C)
        return;
    bool open = u->env->conns_open && u->env->conns_open[u->conn_group] > 0;
    curl_easy_setopt(u->easy, CURLOPT_HTTP_VERSION,
                     open ? (long)CURL_HTTP_VERSION_2_0
                          : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
}

/* A response in the HTTP version --protocol asked for. (Over TLS, ALPN could have settled
 * on HTTP/1.1; the run would then measure another protocol than it says.) */
bool user_protocol_as_asked(struct user *u)
{
    enum protocol p = u->env->cfg->protocol;
    if (p != PROTO_H2 && p != PROTO_H2C)
        return true;
    long v = 0;
    curl_easy_getinfo(u->easy, CURLINFO_HTTP_VERSION, &v);
    return v == CURL_HTTP_VERSION_2_0;
}

/* The decimal number at the start of s (at most n bytes, not NUL-terminated), leading
 * spaces skipped; -1 when there is none or it is past 2^53. */
static int64_t digits(const char *s, size_t n)
{
    size_t i = 0;
    int64_t v = -1;
    while (i < n && s[i] == ' ')
        i++;
    for (; i < n && s[i] >= '0' && s[i] <= '9' && v < ((int64_t)1 << 53); i++)
        v = (v < 0 ? 0 : v * 10) + (s[i] - '0');
    return v < ((int64_t)1 << 53) ? v : -1;
}

/* Under HTTP/2 libcurl hands each response head over as HTTP/1.1-style lines it made
 * from the decoded fields: "HTTP/2 NNN \r\n" for :status, "name: value\r\n" for each
 * field, "\r\n" at the end. Back to what the HEADERS frame carried, in h2load's measure
 * (the sum of name and value lengths, :status included, no per-field overhead):
 * ":status" and its 3 digits for the first, len - 4 for the others. At the head's end,
 * its HEADERS frame and its body's DATA frames are counted: none for a status without a
 * body (1xx, 204, 304), one per 16 KiB of Content-Length otherwise (a front answers a
 * sized body in frames of at most that size, END_STREAM on the last), and a head with
 * neither is a stream whose frames are not known (h2_resp_unsized). */
void user_protocol_head_line(struct user *u, const char *buf, size_t len)
{
    if (!is_h2(u) || len == 0)
        return;
    uint64_t field = 0;
    if (len > 10 && memcmp(buf, "HTTP/2 ", 7) == 0) {
        long status = digits(buf + 7, 3);
        field = strlen(":status") + 3;
        u->h2_body_len = (status < 200 || status == 204 || status == 304) ? 0 : -1;
    } else if (buf[0] == '\r' || buf[0] == '\n') {
        counters_add(u->ctr, CTR_H2_RESP_HEADS, 1, u->ctr->measuring);
        if (u->h2_body_len < 0)
            counters_add(u->ctr, CTR_H2_RESP_UNSIZED, 1, u->ctr->measuring);
        else
            counters_add(u->ctr, CTR_H2_DATA_FRAMES,
                         (uint64_t)(u->h2_body_len + H2_MAX_FRAME - 1) / H2_MAX_FRAME,
                         u->ctr->measuring);
    } else if (len >= 4) {
        field = len - 4; /* ": " and CRLF */
        static const char cl[] = "content-length:";
        if (u->h2_body_len < 0 && len > sizeof(cl) && strncmp(buf, cl, sizeof(cl) - 1) == 0)
            u->h2_body_len = digits(buf + sizeof(cl) - 1, len - (sizeof(cl) - 1));
    }
    counters_add(u->ctr, CTR_H2_RESP_FIELD_BYTES, field, u->ctr->measuring);
}
