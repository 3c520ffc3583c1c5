/* sse_ts_outbox.h: one stream's callbacks to the contract suite, numbered and in order.
 *
 * What the SSE client sees (an event, a comment, an error) becomes one JSON message,
 * queued and POSTed to callbackUrl/1, /2, ... strictly in order, one request in flight
 * at a time, on the worker's libcurl multi handle (the sse-contract-tests service spec:
 * the harness sorts by that number). A callback that fails is reported on stderr and
 * skipped: its number is used up, as the harness would see a gap anyway.
 */
#ifndef PUSHPULL_SSE_TS_OUTBOX_H
#define PUSHPULL_SSE_TS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "sse_parser.h"

struct ts_outbox; /* opaque */

/* An empty outbox for stream `id` posting to callback_url (borrowed: it must outlive the
 * outbox) through multi; its requests carry `owner` as CURLOPT_PRIVATE, so the worker
 * finds whose they are. NULL when out of memory. Free with ts_outbox_free. */
struct ts_outbox *ts_outbox_new(CURLM *multi, unsigned id, const char *callback_url,
                                void *owner);
/* Drop the callback in flight (removed from multi) and everything queued. NULL is fine. */
void ts_outbox_free(struct ts_outbox *o);
/* Queue {"kind":"event","event":{"type","data","id"}}. */
void ts_outbox_event(struct ts_outbox *o, const struct sse_event *ev);
/* Queue {"kind":"comment","comment":text}. */
void ts_outbox_comment(struct ts_outbox *o, const char *text, size_t len);
/* Queue {"kind":"error","error":text} (text NUL-terminated). */
void ts_outbox_error(struct ts_outbox *o, const char *text);
/* Start the next POST if none is in flight. */
void ts_outbox_pump(struct ts_outbox *o);
/* A transfer of multi finished: true when it was this outbox's POST (now done with). */
bool ts_outbox_finished(struct ts_outbox *o, CURL *easy, CURLcode res);

#endif
