/* counters.c: the counter names and the one function that adds to them.
 *
 * Where each counter is incremented (the only place):
 *   requests, aborted, errors (connect, timeout, io)    user.c   user_start / user_finish
 *   resp_news, resp_empty, resp_304, err_status/parse   user.c   user_finish (the outcome
 *                                                                the transport returned)
 *   connections, reconnects                             user.c   on_opensocket
 *   kernel_*                                            user.c   on_closesocket
 *   req_header_bytes, req_body_bytes                    user.c   user_finish
 *   resp_header_bytes                                   user.c   on_header
 *   resp_body_bytes, chunk_framing_bytes                user.c   on_write
 *   resets                                              the transport that saw the signal
 *   sse_*                                               sse.c    sse_on_body
 */
#include "counters.h"

static const char *const names[CTR__COUNT] = {
    [CTR_REQUESTS] = "requests",
    [CTR_RESP_NEWS] = "responses_news",
    [CTR_RESP_EMPTY] = "responses_empty",
    [CTR_RESP_304] = "responses_304",
    [CTR_ERR_CONNECT] = "errors_connect",
    [CTR_ERR_TIMEOUT] = "errors_timeout",
    [CTR_ERR_STATUS] = "errors_status",
    [CTR_ERR_PARSE] = "errors_parse",
    [CTR_ERR_IO] = "errors_io",
    [CTR_ABORTED] = "transfers_aborted_at_end",
    [CTR_CONNECTIONS] = "connections_opened",
    [CTR_RECONNECTS] = "reconnects",
    [CTR_RESETS] = "resets",
    [CTR_REQ_HEADER_BYTES] = "req_header_bytes",
    [CTR_REQ_BODY_BYTES] = "req_body_bytes",
    [CTR_RESP_HEADER_BYTES] = "resp_header_bytes",
    [CTR_RESP_BODY_BYTES] = "resp_body_bytes",
    [CTR_CHUNK_FRAMING_BYTES] = "framing_bytes",
    [CTR_SSE_DATA_BYTES] = "sse_data_bytes",
    [CTR_SSE_FRAMING_BYTES] = "sse_framing_bytes",
    [CTR_SSE_COMMENT_BYTES] = "sse_comment_bytes",
    [CTR_SSE_COMMENTS] = "sse_comments",
    [CTR_SSE_EVENTS] = "sse_events",
    [CTR_KERNEL_BYTES_SENT] = "kernel_bytes_sent",
    [CTR_KERNEL_BYTES_RECEIVED] = "kernel_bytes_received",
    [CTR_KERNEL_SEGS_OUT] = "kernel_segs_out",
    [CTR_KERNEL_SEGS_IN] = "kernel_segs_in",
    [CTR_KERNEL_FIN_RECEIVED] = "kernel_fin_received",
    [CTR_KERNEL_READ_ERRORS] = "kernel_read_errors",
};

void counters_add(struct counters *c, enum counter k, uint64_t n, bool in_window)
{
    c->run[k] += n;
    if (in_window)
        c->win[k] += n;
}

void counters_merge(struct counters *dst, const struct counters *src)
{
    for (int k = 0; k < CTR__COUNT; k++) {
        dst->run[k] += src->run[k];
        dst->win[k] += src->win[k];
    }
}

const char *counters_name(enum counter k)
{
    return (k >= 0 && k < CTR__COUNT) ? names[k] : "?";
}
