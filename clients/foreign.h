/* foreign.h: a foreign push server's URLs and cursor conventions (--url, --observer-url).
 *
 * The lab's techniques speak the lab server's contract by default (GET /poll with
 * If-None-Match, /longpoll?since=N, /events, /ws?since=N). Pointed at another push
 * server (nginx + nchan, or one of your own) with --url, they keep everything they
 * measure and change only what to ask for and how to resume, which this file answers:
 *   - the URL: --url for the run's --approach, a path after --server or a whole URL
 *     under it (ws:// and wss:// stand for http:// and https://); the observer, the
 *     uncounted stream that learns every update's stamp, follows --observer-url (an SSE
 *     URL; --url itself with --approach sse), and without one there is no observer;
 *   - SSE resumes with the standard Last-Event-ID, the id of the last event received (up
 *     to FOREIGN_VALIDATOR_MAX bytes; a longer one is counted and not sent);
 *   - polling (short and long) resumes with the last answer's validators: its ETag sent
 *     back as If-None-Match and its Last-Modified as If-Modified-Since (nchan's
 *     intervalpoll and longpoll use the pair as the message id), each kept up to
 *     FOREIGN_VALIDATOR_MAX bytes (a longer one is counted, never cut short or dropped
 *     unseen). A 200 is one update, the answer's body; a 304 is nothing new; a long
 *     poll's 408 (the server's hold ran out) is asked again with the same cursor, and
 *     counted as not modified. The first long poll has no validators: it waits for the
 *     next update. --longpoll-timeout is not sent to a foreign server; a poll it holds
 *     past that plus --response-timeout is cut by the client (errors_timeout) and asked
 *     again 1 s later with the same cursor;
 *   - a WebSocket reconnects to the same URL: no cursor, so updates published while it
 *     was away are missed (counted as missed when the body carries seq).
 * What an update's body must carry: the lab's update JSON, {"seq":N,"ts_ns":T,...}, where
 * seq numbers the updates 1, 2, 3 ... and ts_ns is the publish stamp (CLOCK_REALTIME ns).
 * A server that passes the posted body through (nchan does) gets it from a publisher that
 * posts that JSON, with ts_ns the instant the POST was written (the bench's publisher
 * does): latency then runs from the publisher's send, which includes the publish request's
 * trip. seq is what makes missed updates and staleness countable. Without a stamp, the
 * publisher's send time is used: when the client publishes itself (--publish-url,
 * publisher.c), a body that is not such JSON is matched to a publish by order
 * (by_order.h); otherwise it is counted as a parse error (sse_events_invalid,
 * ws_messages_invalid, errors_parse), never as a delivery.
 *
 * Short polling in state mode is the same convention on the lab server (its /poll has an
 * ETag and no Last-Modified), so that technique uses this file's two poll functions for
 * both; the long poll, SSE and WebSocket ask foreign_on for their resume rule.
 */
#ifndef PUSHPULL_FOREIGN_H
#define PUSHPULL_FOREIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "poll_reply.h"
#include "transport.h"

struct user;

/* The longest ETag, Last-Modified or SSE id kept (a strong ETag of a SHA-256 in hex is 66
 * bytes with its quotes). A longer one is not sent back: it is counted
 * (validators_too_long) and named once per run on stderr. */
#define FOREIGN_VALIDATOR_MAX 255

/* One validator: a heap string grown to the longest value it has held (so a user pays for
 * the validators its server sends, and a user that polls nothing pays nothing). */
struct foreign_value {
    char *s;      /* the value, NUL-terminated (owned); NULL or "" when there is none */
    uint32_t cap; /* bytes allocated at s */
    bool dropped; /* an answer's: it had one past FOREIGN_VALIDATOR_MAX, not kept */
};

/* A poll's cursor on a server that versions its answers with validators; also what one
 * answer's head brought (user.h's answer_validators), which becomes the cursor on a
 * good 200. Freed with foreign_cursor_free. */
struct foreign_cursor {
    struct foreign_value etag;          /* ETag, sent back as If-None-Match */
    struct foreign_value last_modified; /* Last-Modified, sent back as If-Modified-Since */
};

/* The flags that only make sense together: --url and --observer-url under --server,
 * --poll state, no --send-rate. 0, or -1 with one line in err naming the flag. */
int foreign_check(const struct client_config *cfg, char *err, size_t errlen);
/* The run talks to a foreign server (--url). */
bool foreign_on(const struct client_config *cfg);
/* The observer runs: always on the lab server; on a foreign one when it has an SSE URL. */
bool foreign_observer_runs(const struct client_config *cfg);
/* The target (path and query, after --server's base path) user u asks for: the foreign
 * URL's, or lab_path on the lab server. Borrowed from the config; valid for the run. */
const char *foreign_target(const struct user *u, const char *lab_path);
/* The target (path and query) the publisher posts to (--publish-url; publisher.c).
 * Borrowed from the config. */
const char *foreign_publish_target(const struct client_config *cfg);
/* A conditional GET of target with c's validators: spec's target and header lines. 0 or -1
 * (out of memory). */
int foreign_poll_prepare(const struct foreign_cursor *c, const char *target,
                         struct request_spec *spec);
/* The poll's answer (its body read into reply, UPDATE_SHAPE_ONE, its validators into
 * answer): a 200's update goes to the user and the validators it brought become the
 * cursor c (one it brought too long is dropped from c: the next poll goes without it);
 * 304 and 408 are nothing new. The outcome. */
enum outcome foreign_poll_done(struct user *u, struct foreign_cursor *c,
                               struct foreign_cursor *answer, struct poll_reply *reply,
                               long status);
/* A head line of user u's answer was "ETag: v" (etag true) or "Last-Modified: v", v
 * len bytes: keep it in u->answer_validators (nothing when that is NULL). One past
 * FOREIGN_VALIDATOR_MAX is not kept (foreign_value_fits counts it). */
void foreign_note_validator(struct user *u, bool etag, const char *v, size_t len);
/* A cursor value named name (an ETag, a Last-Modified, an SSE id), len bytes, that user
 * u would send back: true when it fits FOREIGN_VALIDATOR_MAX; else false, and it is
 * counted (validators_too_long: the one place) and named on stderr the first time in the
 * run. */
bool foreign_value_fits(struct user *u, const char *name, size_t len);
/* Forget what an answer brought (a new answer begins). */
void foreign_cursor_clear(struct foreign_cursor *c);
/* Free c's strings; c is empty afterwards. */
void foreign_cursor_free(struct foreign_cursor *c);

#endif
