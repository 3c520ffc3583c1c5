/* counters.c: the counter names, the one function that adds to them, and the activity
 * series it feeds.
 *
 * Where each counter is incremented (the only place, or one place per HTTP driver where
 * the bytes cross it; user.c's user_count_* functions are called by both HTTP drivers
 * and by the WebSocket transport, which runs its own socket):
 *   requests                                            user.c   user_count_request
 *   aborted                                             user.c   user_count_aborted
 *   errors (connect, timeout, io, status, parse)        user.c   user_count_failure
 *   resp_news, resp_empty, resp_304, err_status/parse   user.c   user_count_outcome (the
 *   errors_parse_too_big                                         outcome the transport
 *                                                                returned)
 *   connections, reconnects                             user_http.c user_socket_opened
 *   kernel_*                                            user_http.c user_socket_close
 *   ws_handshake_req_bytes, ws_*_up                     ws_conn.c conn_write (the single
 *                                                                 write site)
 *   ws_handshake_resp_bytes, ws_*_down                  ws_conn.c account_down (from
 *                                                                 conn_read, the single
 *                                                                 read site)
 *   ws_messages_invalid                                 ws.c     ws_on_message
 *   ws_handshakes_refused                               ws.c     ws_on_end
 *   msgs_sent                                           upstream.c upstream_compose
 *   msgs_echoed, msgs_echo_duplicates                   upstream.c upstream_recognise
 *   req_header_bytes, req_body_bytes                    user_curl.c
 *                                                       user_curl_count_request
 *                                                       (libcurl), http_conn.c conn_write
 *                                                       (the raw driver's write site)
 *   resp_header_bytes                                   user_curl.c on_header (libcurl),
 *                                                       http_conn.c conn_read (the raw
 *                                                       driver's read site)
 *   resp_body_bytes, chunk_framing_bytes                user_http.c user_http_body
 *                                                                (both drivers)
 *   resets                                              user.c   user_note_reset (called
 *                                                                by the transport that saw
 *                                                                the signal)
 *   sse_*_bytes, sse_comments, sse_events               sse.c    sse_on_body
 *   deliveries, seq_backwards, stamps_future            user.c   user_deliver_update
 *   sse_events_invalid                                  sse.c    sse_on_event
 *   validators_too_long                                 foreign.c foreign_value_fits
 *   deliveries_by_order, updates_unmatched              by_order.c by_order_deliver
 *   failovers                                           failover.c failover_after_failure
 *                                                                (from user_count_failure)
 *   outages                                             user.c   user_note_down
 *   outage_ns (and the maxima, counters_add_outage)     user.c   outage_end
 *   outages_open                                        user.c   user_shutdown
 *   h2_resp_field_bytes, h2_resp_heads, h2_data_frames, user_protocol.c
 *   h2_resp_unsized                                              user_protocol_head_line
 *                                                                (libcurl's head lines)
 *   tls_app_bytes_received                              user_protocol.c on_tls_record
 *                                                                (OpenSSL's record
 *                                                                callback)
 * The activity bins are added in counters_add, so they follow the same single places.
 */
#include "counters.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

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
    [CTR_ERR_PARSE_TOO_BIG] = "errors_parse_too_big",
    [CTR_SEQ_BACKWARDS] = "seq_backwards",
    [CTR_STAMPS_FUTURE] = "stamps_future",
    [CTR_SSE_EVENTS_INVALID] = "sse_events_invalid",
    [CTR_VALIDATORS_TOO_LONG] = "validators_too_long",
    [CTR_DELIVERIES_BY_ORDER] = "deliveries_by_order",
    [CTR_UPDATES_UNMATCHED] = "updates_unmatched",
    [CTR_ABORTED] = "transfers_aborted_at_end",
    [CTR_CONNECTIONS] = "connections_opened",
    [CTR_RECONNECTS] = "reconnects",
    [CTR_RESETS] = "resets",
    [CTR_FAILOVERS] = "failovers",
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
    [CTR_WS_HANDSHAKE_REQ_BYTES] = "ws_handshake_req_bytes",
    [CTR_WS_HANDSHAKE_RESP_BYTES] = "ws_handshake_resp_bytes",
    [CTR_WS_HEADER_BYTES_DOWN] = "ws_frame_header_bytes_down",
    [CTR_WS_MASK_BYTES_DOWN] = "ws_mask_bytes_down",
    [CTR_WS_PAYLOAD_BYTES_DOWN] = "ws_payload_bytes_down",
    [CTR_WS_PINGPONG_BYTES_DOWN] = "ws_ping_pong_bytes_down",
    [CTR_WS_CLOSE_BYTES_DOWN] = "ws_close_bytes_down",
    [CTR_WS_HEADER_BYTES_UP] = "ws_frame_header_bytes_up",
    [CTR_WS_MASK_BYTES_UP] = "ws_mask_bytes_up",
    [CTR_WS_PAYLOAD_BYTES_UP] = "ws_payload_bytes_up",
    [CTR_WS_PINGPONG_BYTES_UP] = "ws_ping_pong_bytes_up",
    [CTR_WS_CLOSE_BYTES_UP] = "ws_close_bytes_up",
    [CTR_WS_DATA_FRAMES_DOWN] = "ws_data_frames_down",
    [CTR_WS_PINGS_DOWN] = "ws_pings_down",
    [CTR_WS_PONGS_UP] = "ws_pongs_up",
    [CTR_WS_MESSAGES_INVALID] = "ws_messages_invalid",
    [CTR_WS_HANDSHAKES_REFUSED] = "ws_handshakes_refused",
    [CTR_MSGS_SENT] = "msgs_sent",
    [CTR_MSGS_ECHOED] = "msgs_echoed",
    [CTR_MSGS_ECHO_DUPLICATES] = "msgs_echo_duplicates",
    [CTR_SETUPS] = "conn_setups",
    [CTR_SETUP_BYTES] = "conn_setup_bytes",
    [CTR_TLS_HANDSHAKE_US] = "tls_handshake_us",
    [CTR_H2_RESP_FIELD_BYTES] = "h2_resp_field_bytes",
    [CTR_H2_RESP_HEADS] = "h2_resp_heads",
    [CTR_H2_DATA_FRAMES] = "h2_data_frames",
    [CTR_H2_RESP_UNSIZED] = "h2_resp_unsized",
    [CTR_TLS_APP_BYTES_RECEIVED] = "tls_app_bytes_received",
    [CTR_KERNEL_BYTES_SENT] = "kernel_bytes_sent",
    [CTR_KERNEL_BYTES_RECEIVED] = "kernel_bytes_received",
    [CTR_KERNEL_SEGS_OUT] = "kernel_segs_out",
    [CTR_KERNEL_SEGS_IN] = "kernel_segs_in",
    [CTR_KERNEL_FIN_RECEIVED] = "kernel_fin_received",
    [CTR_KERNEL_READ_ERRORS] = "kernel_read_errors",
    [CTR_DELIVERIES] = "deliveries",
    [CTR_OUTAGES] = "outages",
    [CTR_OUTAGE_NS] = "outage_ns",
    [CTR_OUTAGES_OPEN] = "outages_open",
};

/* The activity column of counter k, or -1 when it has none. */
static int activity_col_of(enum counter k)
{
    switch (k) {
    case CTR_REQUESTS:
        return ACT_REQUESTS;
    case CTR_CONNECTIONS:
        return ACT_CONNECTIONS;
    case CTR_ERR_CONNECT:
    case CTR_ERR_TIMEOUT:
    case CTR_ERR_STATUS:
    case CTR_ERR_PARSE:
    case CTR_ERR_IO:
        return ACT_ERRORS;
    case CTR_DELIVERIES:
        return ACT_DELIVERIES;
    default:
        return -1;
    }
}

/* Add n to the bin of now; before t0 (the warmup) nothing is binned. */
static void activity_add(struct activity *a, int col, uint64_t n)
{
    int64_t dt = clock_mono_ns() - a->t0_ns;
    if (dt < 0)
        return;
    uint64_t bin = (uint64_t)(dt / ACTIVITY_BIN_NS);
    if (bin >= a->nbins) {
        a->unbinned += n;
        return;
    }
    a->bins[bin][col] += n;
}

void counters_add(struct counters *c, enum counter k, uint64_t n, bool in_window)
{
    c->run[k] += n;
    if (in_window)
        c->win[k] += n;
    if (c->activity && n > 0) {
        int col = activity_col_of(k);
        if (col >= 0)
            activity_add(c->activity, col, n);
    }
}

void counters_add_window(struct counters *c, enum counter k, uint64_t n)
{
    c->win[k] += n;
}

void counters_add_outage(struct counters *c, int64_t dur_ns, bool in_window)
{
    uint64_t d = dur_ns > 0 ? (uint64_t)dur_ns : 0;
    counters_add(c, CTR_OUTAGE_NS, d, in_window);
    if (d > c->outage_max_run_ns)
        c->outage_max_run_ns = d;
    if (in_window && d > c->outage_max_win_ns)
        c->outage_max_win_ns = d;
}

void counters_merge(struct counters *dst, const struct counters *src)
{
    for (int k = 0; k < CTR__COUNT; k++) {
        dst->run[k] += src->run[k];
        dst->win[k] += src->win[k];
    }
    if (src->outage_max_run_ns > dst->outage_max_run_ns)
        dst->outage_max_run_ns = src->outage_max_run_ns;
    if (src->outage_max_win_ns > dst->outage_max_win_ns)
        dst->outage_max_win_ns = src->outage_max_win_ns;
}

const char *counters_name(enum counter k)
{
    return (k >= 0 && k < CTR__COUNT) ? names[k] : "?";
}

/* ---- activity ----------------------------------------------------------------------- */

int activity_init(struct activity *a, int64_t t0_ns, int64_t span_ns, char *err,
                  size_t errlen)
{
    memset(a, 0, sizeof(*a));
    a->t0_ns = t0_ns;
    uint64_t want =
        span_ns > 0 ? ((uint64_t)span_ns + ACTIVITY_BIN_NS - 1) / ACTIVITY_BIN_NS : 1;
    a->nbins = want < ACTIVITY_MAX_BINS ? (size_t)want : ACTIVITY_MAX_BINS;
    a->bins = calloc(a->nbins, sizeof(*a->bins));
    if (!a->bins) {
        snprintf(err, errlen, "calloc(%zu activity bins): out of memory", a->nbins);
        a->nbins = 0;
        return -1;
    }
    return 0;
}

void activity_free(struct activity *a)
{
    free(a->bins);
    memset(a, 0, sizeof(*a));
}

void activity_merge(struct activity *dst, const struct activity *src)
{
    size_t n = dst->nbins < src->nbins ? dst->nbins : src->nbins;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < ACT__COUNT; c++)
            dst->bins[i][c] += src->bins[i][c];
    dst->unbinned += src->unbinned;
}

int activity_write_csv(const struct activity *a, FILE *out)
{
    if (fprintf(out, "time_s,requests,connections,errors,deliveries\n") < 0)
        return -1;
    for (size_t i = 0; i < a->nbins; i++) {
        const uint64_t *b = a->bins[i];
        if (fprintf(out, "%.1f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
                    (double)i * ACTIVITY_BIN_NS / NS_PER_S, b[ACT_REQUESTS],
                    b[ACT_CONNECTIONS], b[ACT_ERRORS], b[ACT_DELIVERIES]) < 0)
            return -1;
    }
    return 0;
}
