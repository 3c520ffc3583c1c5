/* foreign.c: a foreign push server's URLs and cursor conventions (see foreign.h).
 *
 * Nothing here holds state of its own: the URLs stay in the config as the user typed them
 * (checked once, at parse time, by foreign_check), and each user's cursor lives in its
 * transport's state; this file only says what a request carries and what an answer moves.
 * The validators are the one thing it stores for the transports: as heap strings grown
 * to the values the server sends (FOREIGN_VALIDATOR_MAX at most), in the poll
 * transports' state, so an SSE or WebSocket user (20,000 of them in one process) pays
 * nothing for them. A value past that limit (an SSE id too: sse.c asks foreign_value_fits
 * before it sends one back) is never silently dropped or cut short: it is counted and
 * named once.
 */
#include "foreign.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "by_order.h"
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
    if (cfg->publish_url && !cfg->foreign_url) {
        snprintf(err, errlen, "--publish-url: only with --url (a foreign server)");
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
    if (cfg->publish_url && !target_of(cfg->server, cfg->publish_url)) {
        snprintf(err, errlen, "--publish-url: expected %s %s, got '%s'", expect,
                 cfg->server, cfg->publish_url);
        return -1;
    }
    if (cfg->publish_url && cfg->partition_count > 1) {
        snprintf(err, errlen,
                 "--publish-url: one process publishes; not with --partition %u/%u",
                 cfg->partition_index, cfg->partition_count);
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

/* Every header line a validator makes fits the request's header line. */
_Static_assert(sizeof("If-Modified-Since: ") - 1 + FOREIGN_VALIDATOR_MAX <
                   sizeof(((struct request_spec *)0)->extra[0]),
               "a validator's header line fits struct request_spec's extra");

static const char *value_of(const struct foreign_value *v)
{
    return v->s ? v->s : "";
}

const char *foreign_publish_target(const struct client_config *cfg)
{
    const char *t = target_of(cfg->server, cfg->publish_url);
    return t ? t : "/"; /* foreign_check made sure it is one */
}

int foreign_poll_prepare(const struct foreign_cursor *c, const char *target,
                         struct request_spec *spec)
{
    int i = 0;
    if (value_of(&c->etag)[0])
        snprintf(spec->extra[i++], sizeof(spec->extra[0]), "If-None-Match: %s", c->etag.s);
    if (value_of(&c->last_modified)[0])
        snprintf(spec->extra[i], sizeof(spec->extra[0]), "If-Modified-Since: %s",
                 c->last_modified.s);
    return dynbuf_adds(spec->target, target);
}

/* Take the answer's value into the cursor's: swapped, so neither allocates again once
 * both have held the longest value. One the answer dropped empties the cursor's. */
static void value_commit(struct foreign_value *cur, struct foreign_value *ans)
{
    if (ans->dropped) {
        if (cur->s)
            cur->s[0] = '\0';
    } else if (value_of(ans)[0]) {
        struct foreign_value t = *cur;
        *cur = *ans;
        *ans = t;
    }
}

enum outcome foreign_poll_done(struct user *u, struct foreign_cursor *c,
                               struct foreign_cursor *answer, struct poll_reply *reply,
                               long status)
{
    if (status == 304 || status == 408)
        return OUTCOME_NOT_MODIFIED;
    if (status != 200)
        return OUTCOME_ERR_STATUS;
    uint64_t seq = 0;
    enum outcome o = poll_reply_apply_latest(reply, u, &seq);
    int by_order;
    if (o == OUTCOME_ERR_PARSE && (by_order = by_order_deliver(u)) >= 0)
        o = by_order ? OUTCOME_NEWS : OUTCOME_EMPTY; /* no stamp: by order */
    if (o != OUTCOME_NEWS && o != OUTCOME_EMPTY)
        return o;
    value_commit(&c->etag, &answer->etag);
    value_commit(&c->last_modified, &answer->last_modified);
    return o;
}

bool foreign_value_fits(struct user *u, const char *name, size_t len)
{
    static atomic_flag named = ATOMIC_FLAG_INIT; /* the stderr line, once per run */
    if (len <= FOREIGN_VALIDATOR_MAX)
        return true;
    counters_add(u->ctr, CTR_VALIDATORS_TOO_LONG, 1, u->ctr->measuring);
    if (!atomic_flag_test_and_set(&named))
        fprintf(
            stderr,
            "pushpull-client: the server sent %s of %zu bytes, past the %d the client "
            "keeps: requests after it go without it (counted in validators_too_long)\n",
            name, len, FOREIGN_VALIDATOR_MAX);
    return false;
}

void foreign_note_validator(struct user *u, bool etag, const char *v, size_t len)
{
    struct foreign_cursor *a = u->answer_validators;
    if (!a)
        return;
    struct foreign_value *dst = etag ? &a->etag : &a->last_modified;
    if (!foreign_value_fits(u, etag ? "an ETag" : "a Last-Modified", len)) {
        dst->dropped = true;
        if (dst->s)
            dst->s[0] = '\0';
        return;
    }
    if (len + 1 > dst->cap) {
        char *s = realloc(dst->s, len + 1);
        if (!s) { /* out of memory: as if the answer had none */
            if (dst->s)
                dst->s[0] = '\0';
            return;
        }
        dst->s = s;
        dst->cap = (uint32_t)(len + 1);
    }
    memcpy(dst->s, v, len);
    dst->s[len] = '\0';
    dst->dropped = false;
}

void foreign_cursor_clear(struct foreign_cursor *c)
{
    struct foreign_value *vs[] = {&c->etag, &c->last_modified};
    for (size_t i = 0; i < 2; i++) {
        if (vs[i]->s)
            vs[i]->s[0] = '\0';
        vs[i]->dropped = false;
    }
}

void foreign_cursor_free(struct foreign_cursor *c)
{
    free(c->etag.s);
    free(c->last_modified.s);
    memset(c, 0, sizeof(*c));
}
