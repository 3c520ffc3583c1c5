/* foreign.c: a foreign push server's URLs and cursor conventions (see foreign.h).
 *
 * Nothing here holds state of its own: the URLs stay in the config as the user typed them
 * (checked once, at parse time, by foreign_check), and each user's cursor lives in its
 * transport's state; this file only says what a request carries and what an answer moves.
 */
#include "foreign.h"

#include <stdio.h>
#include <string.h>

#include "user.h"

/* url past its scheme, and whether the scheme is a TLS one (ws:// is http://, wss://
 * https://); NULL for another scheme. */
static const char *after_scheme(const char *url, int *tls)
{
    static const struct {
        const char *prefix;
        int tls;
    } schemes[] = {{"http://", 0}, {"https://", 1}, {"ws://", 0}, {"wss://", 1}};
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(url, schemes[i].prefix, n) == 0) {
            *tls = schemes[i].tls;
            return url + n;
        }
    }
    return NULL;
}

/* The target url names after server's base path: url itself when it is a path; the rest
 * of a whole URL that starts with server's host, port and path ("/" when nothing is
 * left); NULL when url is neither. Borrowed from url. */
static const char *target_of(const char *server, const char *url)
{
    if (url[0] == '/')
        return url;
    int tls_s = 0, tls_u = 0;
    const char *a = after_scheme(server, &tls_s), *b = after_scheme(url, &tls_u);
    if (!a || !b || tls_s != tls_u)
        return NULL;
    size_t n = strlen(a);
    while (n > 0 && a[n - 1] == '/')
        n--;
    if (strncmp(a, b, n) != 0)
        return NULL;
    const char *rest = b + n;
    if (rest[0] == '\0')
        return "/";
    return rest[0] == '/' || rest[0] == '?' ? rest : NULL;
}

int foreign_check(const struct client_config *cfg, char *err, size_t errlen)
{
    static const char expect[] = "a path (like /sub/events) or a URL under --server";
    if (cfg->observer_url && !cfg->foreign_url) {
        snprintf(err, errlen, "--observer-url: only with --url (a foreign server)");
        return -1;
    }
    if (!cfg->foreign_url)
        return 0;
    if (!target_of(cfg->server, cfg->foreign_url)) {
        snprintf(err, errlen, "--url: expected %s %s, got '%s'", expect, cfg->server,
                 cfg->foreign_url);
        return -1;
    }
    if (cfg->observer_url && !target_of(cfg->server, cfg->observer_url)) {
        snprintf(err, errlen, "--observer-url: expected %s %s, got '%s'", expect,
                 cfg->server, cfg->observer_url);
        return -1;
    }
    if (cfg->approach == APPROACH_SHORT && cfg->poll == POLL_EVENTS) {
        snprintf(err, errlen,
                 "--poll events: a foreign server (--url) is polled with the validators "
                 "of its answers; use --poll state");
        return -1;
    }
    if (cfg->send_rate_hz > 0) {
        snprintf(err, errlen,
                 "--send-rate: messages go to the lab server's /publish, not to a foreign "
                 "server (--url)");
        return -1;
    }
    return 0;
}

bool foreign_on(const struct client_config *cfg)
{
    return cfg->foreign_url != NULL;
}

bool foreign_observer_runs(const struct client_config *cfg)
{
    return !foreign_on(cfg) || cfg->observer_url || cfg->approach == APPROACH_SSE;
}

const char *foreign_target(const struct user *u, const char *lab_path)
{
    const struct client_config *cfg = u->env->cfg;
    if (!foreign_on(cfg))
        return lab_path;
    const char *url =
        u->observer && cfg->observer_url ? cfg->observer_url : cfg->foreign_url;
    const char *t = target_of(cfg->server, url);
    return t ? t : lab_path; /* foreign_check made sure it is one */
}

int foreign_poll_prepare(const struct foreign_cursor *c, const char *target,
                         struct request_spec *spec)
{
    int i = 0;
    if (c->etag[0])
        snprintf(spec->extra[i++], sizeof(spec->extra[0]), "If-None-Match: %s", c->etag);
    if (c->last_modified[0])
        snprintf(spec->extra[i], sizeof(spec->extra[0]), "If-Modified-Since: %s",
                 c->last_modified);
    return dynbuf_adds(spec->target, target);
}

enum outcome foreign_poll_done(struct user *u, struct foreign_cursor *c,
                               struct poll_reply *reply, long status)
{
    if (status == 304 || status == 408)
        return OUTCOME_NOT_MODIFIED;
    if (status != 200)
        return OUTCOME_ERR_STATUS;
    uint64_t seq = 0;
    enum outcome o = poll_reply_apply_latest(reply, u, &seq);
    if (o != OUTCOME_NEWS && o != OUTCOME_EMPTY)
        return o;
    if (u->resp_etag[0])
        memcpy(c->etag, u->resp_etag, sizeof(c->etag));
    if (u->resp_lastmod[0])
        memcpy(c->last_modified, u->resp_lastmod, sizeof(c->last_modified));
    return o;
}
