/* approach_ws.c: WebSocket on the lab's side: one upgraded connection per user (GET /ws,
 * 101 Switching Protocols), each update a text frame on it, a ping from the server after
 * heartbeat_s of silence that the client answers with a pong, and the user's own
 * messages, if it writes any, as frames up the same connection. Its row of the approach
 * table (approach.h): settings, flags, model, report sentences and plot style.
 *
 * The model (docs/MODELS.md, "WebSocket", after RFC 6455 section 5.2): the handshake is
 * paid once per connection (its bytes are measured, not modelled: they are the header
 * profile's); then each update is one transit away, as with SSE, and costs its JSON plus
 * a frame header of 2 bytes up to 125 bytes of payload, 4 up to 65535, 10 beyond; the
 * server's frames carry no mask. A frame the client sends carries 4 bytes of masking key
 * besides its header. A heartbeat is an empty ping down (2 bytes) and a masked, empty pong
 * up (6 bytes). Reconnecting is the page's own policy (browsers have none): here a
 * backoff of backoff_ms that doubles after each failed attempt, up to 30 s, and
 * ?since=N to resume.
 */
#include "approach.h"

#include <math.h>
#include <stdio.h>

#include "lab.h"
#include "numfmt.h"
#include "scenario.h"

enum { WS_HEARTBEAT, WS_BACKOFF };

#define WS_BACKOFF_MAX_MS 30000.0 /* the client's cap on its doubling wait */
#define WS_PING_BYTES     2.0     /* an empty ping from the server: header only */
#define WS_PONG_BYTES     6.0     /* an empty pong from the client: header and mask */

static const struct field_spec settings[] = {
    [WS_HEARTBEAT] = {"heartbeat_s", 0.01, 3600, false, true, false, true, false, 15,
                      "0 (off) or a number of seconds from 0.01 to 3600"},
    [WS_BACKOFF] = {"backoff_ms", 1, 600000, false, false, true, true, false, 1000,
                    "a whole number of milliseconds from 1 to 600000"},
};

/* The server pings after a heartbeat of silence (the same --heartbeat as SSE's). */
static int server_args(const struct scenario_run *r, struct runargs *out)
{
    char num[32];
    fields_fmt_num(num, sizeof(num), r->set[WS_HEARTBEAT]);
    runargs_add(out, "--heartbeat");
    return runargs_addf(out, "%ss", num);
}

static int client_args(const struct scenario_run *r, struct runargs *out)
{
    runargs_add(out, "--ws-backoff");
    return runargs_addf(out, "%.0fms", r->set[WS_BACKOFF]);
}

/* The updates' JSON down; the frame headers around it, the pings and pongs, the closes
 * and the handshake frame it. The messages the user sends up (frames with their masks)
 * are the user's own traffic, drawn apart as every approach's messages are. */
static void bytes_split(const cJSON *res, double *payload, double *framing)
{
    *payload = lab_num(res, "ws_payload_bytes_down");
    *framing = lab_num(res, "ws_frame_header_bytes_down") +
               lab_num(res, "ws_ping_pong_bytes_down") +
               lab_num(res, "ws_ping_pong_bytes_up") + lab_num(res, "ws_close_bytes_down") +
               lab_num(res, "ws_close_bytes_up") + lab_num(res, "ws_handshake_req_bytes") +
               lab_num(res, "ws_handshake_resp_bytes");
}

/* The data frames follow the updates; the pings and pongs follow the clock; no
 * requests. */
static void update_shares(const cJSON *res, double *bytes, double *requests)
{
    double data =
        lab_num(res, "ws_payload_bytes_down") + lab_num(res, "ws_frame_header_bytes_down");
    double all = data + lab_num(res, "ws_ping_pong_bytes_down") +
                 lab_num(res, "ws_ping_pong_bytes_up");
    *bytes = all > 0 ? data / all : 1;
    *requests = 0;
}

static void model_inputs(const struct lab_row *r, struct model_input *in)
{
    in->heartbeat_s = lab_num(r->settings, "heartbeat_s");
}

/* RFC 6455 section 5.2: the payload length in 7 bits up to 125, else 126 and 16 bits,
 * else 127 and 64 bits; the first byte holds FIN, the RSV bits and the opcode. */
static double frame_header_bytes(double payload)
{
    return payload <= 125 ? 2 : payload <= 65535 ? 4 : 10;
}

static void predict(const struct model_input *in, struct model_prediction *o)
{
    o->requests_per_client_min = 0; /* one upgrade per connection, before the window */
    o->latency_mean_ms = in->delay_s * 1e3;
    o->latency_max_ms = in->delay_s * 1e3;
    o->missed_share = 0;
    o->empty_share = 0;
    o->staleness_mean_ms = model_push_staleness_ms(in); /* as SSE: only in flight */
    if (in->json_bytes > 0)
        o->bytes_per_event = in->json_bytes + frame_header_bytes(in->json_bytes);
    if (in->heartbeat_s > 0)
        o->bytes_per_heartbeat = WS_PING_BYTES + WS_PONG_BYTES;
    if (in->send_bytes > 0) /* a frame up: header, masking key, the message */
        o->msg_wire_bytes = frame_header_bytes(in->send_bytes) + 4 + in->send_bytes;
}

static void setting_text(const struct lab_row *r, char *buf, size_t len)
{
    snprintf(buf, len, "heartbeat %.15g s, backoff %.15g ms",
             lab_num(r->settings, "heartbeat_s"), lab_num(r->settings, "backoff_ms"));
}

static void describe(const struct lab_row *r, char *buf, size_t len)
{
    (void)r;
    snprintf(buf, len, "WebSocket");
}

/* The first run of row a, or NULL. */
static const struct lab_row *first_of(const struct lab_row *rows, size_t n,
                                      const struct lab_approach *a)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].approach == a)
            return &rows[i];
    return NULL;
}

/* The question that decides between the two streams: against SSE's first run, the bytes
 * each delivered update cost and what framed it (SSE: its fields and chunks; WebSocket:
 * its frame headers). */
static int findings(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    const struct lab_row *w = first_of(rows, n, &lab_approach_ws);
    const struct lab_row *e = first_of(rows, n, &lab_approach_sse);
    if (!w || !e || !(w->received > 0) || !(e->received > 0))
        return 0;
    if (report_few_samples(w) || report_few_samples(e))
        return report_too_few(b, report_few_samples(w) ? w : e, "WebSocket against SSE");
    double ws_frame = lab_num(w->res, "ws_frame_header_bytes_down") / w->received;
    double sse_frame =
        (lab_num(e->res, "sse_framing_bytes") + lab_num(e->res, "framing_bytes")) /
        e->received;
    char v[4][NUMFMT_LEN];
    return dynbuf_addf(
        b,
        "- WebSocket against SSE: %s bytes per update delivered against %s, of which %s "
        "framed each update (a frame header) against %s (the id and data lines, the blank "
        "line, the chunk); both delivered in one transit.\n",
        numfmt(v[0], sizeof(v[0]), report_bytes_per_update(w), 4),
        numfmt(v[1], sizeof(v[1]), report_bytes_per_update(e), 4),
        numfmt(v[2], sizeof(v[2]), ws_frame, 3), numfmt(v[3], sizeof(v[3]), sse_frame, 3));
}

/* Bytes per update and per heartbeat, measured beside the model, and the handshake. */
static int details(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        double frames = lab_num(r->res, "ws_data_frames_down");
        if (r->approach != &lab_approach_ws || !(frames > 0))
            continue;
        double data = lab_num(r->res, "ws_payload_bytes_down") +
                      lab_num(r->res, "ws_frame_header_bytes_down");
        double pings = lab_num(r->res, "ws_pings_down");
        double pingpong = lab_num(r->res, "ws_ping_pong_bytes_down") +
                          lab_num(r->res, "ws_ping_pong_bytes_up");
        double opened = lab_num(r->res, "connections_opened"); /* in the window */
        double hs = lab_num(r->res, "ws_handshake_req_bytes") +
                    lab_num(r->res, "ws_handshake_resp_bytes");
        char v[5][NUMFMT_LEN];
        rc = dynbuf_addf(b,
                         "\nBytes per WebSocket frame (%s): %s measured (payload and frame "
                         "headers of the window over its %s data frames down), model %s "
                         "for one update (RFC 6455 section 5.2)",
                         r->id, numfmt(v[0], sizeof(v[0]), data / frames, 4),
                         numfmt(v[1], sizeof(v[1]), frames, 9),
                         numfmt(v[2], sizeof(v[2]), r->m.bytes_per_event, 4));
        if (rc == 0 && pings > 0)
            rc = dynbuf_addf(b,
                             "; %s pings down and their pongs up, %s B a heartbeat (model "
                             "%s: an empty ping, a masked empty pong)",
                             numfmt(v[3], sizeof(v[3]), pings, 9),
                             numfmt(v[4], sizeof(v[4]), pingpong / pings, 3),
                             numfmt(v[0], sizeof(v[0]), r->m.bytes_per_heartbeat, 3));
        else if (rc == 0 && lab_num(r->settings, "heartbeat_s") > 0)
            rc = dynbuf_adds(b, "; no ping: the updates never left the connection quiet "
                                "for a heartbeat");
        if (rc == 0 && hs > 0 && opened > 0)
            rc = dynbuf_addf(b,
                             "; the handshake, paid once per connection: %s B both ways "
                             "(%s connections opened in the window)",
                             numfmt(v[0], sizeof(v[0]), hs / opened, 4),
                             numfmt(v[1], sizeof(v[1]), opened, 9));
        rc = rc ? rc : dynbuf_adds(b, ".\n");
    }
    return rc;
}

/* A frame down at each arrival (a burst's frames together), and a ping down with its
 * pong up after a heartbeat of silence. */
static void traffic(const struct traffic_input *in, struct radio_sim *sim, struct rng *rng,
                    double end_s)
{
    double h = in->period_s, last = 0;
    double a = traffic_next_arrival(in, rng, 0);
    for (;;) {
        double t, up = 0, down;
        if (h > 0 && a - last >= h) {
            t = last + h; /* a ping, answered */
            up = WS_PONG_BYTES;
            down = WS_PING_BYTES;
        } else {
            t = a;
            down = in->event_bytes * (in->burst_size > 0 ? in->burst_size : 1);
            a = traffic_next_arrival(in, rng, a);
        }
        if (!(t < end_s))
            return;
        radio_sim_burst(sim, t, up, down);
        last = t;
    }
}

/* The connection was cut at the crash; the client tries again after b, then waits 2b,
 * 4b, ... (up to 30 s) after each refused attempt: attempts at b, 3b, 7b, ... The
 * first one at or after D opens, and ends the outage. */
static double outage_model_ms(const struct lab_row *r, double down_ms)
{
    double b = lab_num(r->settings, "backoff_ms");
    if (!(b > 0))
        return NAN;
    double t = 0, wait = b;
    do {
        t += wait;
        wait = fmin(2 * wait, fmax(b, WS_BACKOFF_MAX_MS));
    } while (t < down_ms);
    return t;
}

static void style(const cJSON *set, const cJSON *swept, struct lab_style *s)
{
    (void)set;
    snprintf(s->series, sizeof(s->series), "ws");
    snprintf(s->series_title, sizeof(s->series_title), "WebSocket");
    snprintf(s->color, sizeof(s->color), "#CC79A7");
    s->point_type = 15;
    s->point_size = 2.2;
    s->lines = false;
    snprintf(s->label, sizeof(s->label), "WebSocket");
    lab_style_add_swept(&lab_approach_ws, swept, s);
}

const struct lab_approach lab_approach_ws = {
    .name = "ws",
    .alias = "websocket",
    .title = "WebSocket",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = NULL,
    .server_args = server_args,
    .client_args = client_args,
    .drain_s = NULL,
    .settle_s = NULL,
    .server_transport = "ws",
    .bytes_split = bytes_split,
    .update_shares = update_shares,
    .model_inputs = model_inputs,
    .predict = predict,
    .model_source = "WebSocket: one transit; frame headers and masks per RFC 6455 section "
                    "5.2, the handshake per section 4.",
    .columns = NULL,
    .setting_text = setting_text,
    .describe = describe,
    .baseline = false,
    .compared = true,
    .findings = findings,
    .details = details,
    .outage_model_ms = outage_model_ms,
    .outage_model_text =
        "WebSocket the first of b, 3b, 7b, ... at or after D, b its backoff (the "
        "connection was cut at the crash; each refused attempt doubles the wait, up to "
        "30 s)",
    .restart_lesson =
        "WebSocket loses next to nothing either (the new connection asks for `?since=` "
        "and the server replays the gap), but browsers do not reconnect a WebSocket: the "
        "page's own backoff decides when its users return, and since they all lost the "
        "connection at the same instant and double their waits in step, they return in "
        "one burst at the first attempt after the server is back.",
    .reconnect_text = "The page (browsers never reconnect a WebSocket by themselves) waits "
                      "its backoff, doubling after each failed attempt up to 30 s, and "
                      "resumes with `?since=` on the new connection.",
    .buffering_text =
        "A middlebox that buffers bytes holds WebSocket frames as it holds SSE events, so "
        "the latency becomes the time the feed takes to fill the buffer. A real HTTP proxy "
        "that understands Upgrade stops parsing after the 101 and relays the frames as a "
        "tunnel, and one that does not refuses the upgrade outright; what buffers frames "
        "is a box that reads the bytes without knowing the protocol (some antivirus and "
        "inspection proxies), which is what the link emulates. Pings are frames too, so "
        "they fill the buffer and do not flush it.",
    .traffic = traffic,
    .period_key = "heartbeat_s",
    .period_unit_s = 1,
    .period_title = "heartbeat",
    .proxy_text =
        "an upgraded connection: a proxy that does not know Upgrade refuses or "
        "breaks it (wss:// passes such a proxy inside a CONNECT tunnel), an idle "
        "timeout cuts a connection quieter than its pings, and nothing resumes by "
        "itself: the page must reconnect and say where it was",
    .style = style,
    .plot_rank = NULL,
};
