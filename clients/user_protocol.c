/* user_protocol.c: how a user's transfers speak the run's protocol (user_protocol.h).
 *
 * Everything --protocol changes in libcurl's handling of a user lives here: the HTTP
 * version asked for, TLS and the one certificate it trusts, waiting for a shared
 * connection, the workaround for libcurl 7.88's reuse of a prior-knowledge HTTP/2
 * connection, and the check that each answer came in the version asked for. user.c calls
 * the three functions at a user's set-up, before each transfer and after it.
 */
#include "user_protocol.h"

#include <stdio.h>

#include "cli.h"

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
