/* approach_sse.c: Server-Sent Events on the lab's side: one held GET /events per user,
 * each update an event on it; a comment after heartbeat_s of silence, and the retry delay
 * the server tells clients. Its row of the approach table (approach.h): settings, flags,
 * model, report sentences and plot style.
 *
 * The model (docs/MODELS.md, "Server-Sent Events"): one request per client; each update
 * one transit away, framed as "id: N\ndata: JSON\n\n" inside one HTTP chunk (hex size,
 * CRLF, data, CRLF).
 */
#include "approach.h"

#include <math.h>
#include <stdio.h>

#include "lab.h"
#include "scenario.h"

enum { SSE_HEARTBEAT, SSE_RETRY };

static const struct field_spec settings[] = {
    [SSE_HEARTBEAT] = {"heartbeat_s", 0.01, 3600, false, true, false, true, false, 15,
                       "0 (off) or a number of seconds from 0.01 to 3600"},
    [SSE_RETRY] = {"retry_ms", 0, 3600000, false, false, true, true, false, 3000,
                   "a whole number of milliseconds from 0 to 3600000"},
};

static int server_args(const struct scenario_run *r, struct runargs *out)
{
    char num[32];
    fields_fmt_num(num, sizeof(num), r->set[SSE_HEARTBEAT]);
    runargs_add(out, "--heartbeat");
    runargs_addf(out, "%ss", num);
    runargs_add(out, "--retry-ms");
    return runargs_addf(out, "%.0fms", r->set[SSE_RETRY]);
}

/* The update JSON of every event; the rest of the stream (chunk sizes, "id:" and "data:"
 * fields, blank lines, heartbeat comments) frames it. */
static void bytes_split(const cJSON *res, double *payload, double *framing)
{
    *payload = lab_num(res, "sse_data_bytes");
    *framing = lab_num(res, "framing_bytes") + lab_num(res, "sse_framing_bytes") +
               lab_num(res, "sse_comment_bytes");
}

/* The events follow the updates; the heartbeats follow the clock; no requests. */
static void update_shares(const cJSON *res, double *bytes, double *requests)
{
    double body = lab_num(res, "resp_body_bytes") + lab_num(res, "framing_bytes");
    *bytes = body > 0 ? (body - lab_num(res, "sse_comment_bytes")) / body : 1;
    *requests = 0;
}

static void model_inputs(const struct lab_row *r, struct model_input *in)
{
    in->heartbeat_s = lab_num(r->settings, "heartbeat_s");
}

static void predict(const struct model_input *in, struct model_prediction *o)
{
    o->requests_per_client_min = 0; /* one per connection, opened before the window */
    o->latency_mean_ms = in->delay_s * 1e3;
    o->latency_max_ms = in->delay_s * 1e3;
    o->missed_share = 0;
    o->empty_share = 0;
    /* Behind only while an arrival is in flight: age 0..d over d, per arrival, so the
     * time average is (arrivals per second) d^2 / 2 (for that rate x d << 1). A burst
     * of B updates published together is one arrival. */
    double arrivals = in->process == MODEL_BURST && in->burst_size > 0
                          ? in->rate_hz / in->burst_size
                          : in->rate_hz;
    o->staleness_mean_ms = arrivals * in->delay_s * in->delay_s / 2 * 1e3;
    if (in->json_bytes > 0) {
        double text = 4 + in->seq_digits + 1 + 6 + in->json_bytes + 2;
        o->bytes_per_event = text + ceil(log(text + 1) / log(16)) + 4;
    }
}

static void setting_text(const struct lab_row *r, char *buf, size_t len)
{
    snprintf(buf, len, "heartbeat %.15g s", lab_num(r->settings, "heartbeat_s"));
}

static void describe(const struct lab_row *r, char *buf, size_t len)
{
    (void)r;
    snprintf(buf, len, "SSE");
}

/* Bytes per event: the event text plus its chunk framing, measured and modelled. */
static int details(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        double events = lab_num(r->res, "sse_events");
        if (r->approach != &lab_approach_sse || !(events > 0))
            continue;
        /* Every body and chunk-framing byte of the window, per event: this includes any
         * heartbeats (and, had the stream opened in the window, its retry line). */
        double total =
            lab_num(r->res, "resp_body_bytes") + lab_num(r->res, "framing_bytes");
        rc = dynbuf_addf(
            b,
            "\nBytes per SSE event (%s): %.1f measured (body and chunk framing of "
            "the window over its %.0f events, %.0f heartbeats included), model "
            "%.1f for one event.\n",
            r->id, total / events, events, lab_num(r->res, "sse_comments"),
            r->m.bytes_per_event);
    }
    return rc;
}

/* An event down at each arrival (a burst's events together), and a comment after a
 * heartbeat of silence; nothing goes up but TCP's acknowledgements. */
static void traffic(const struct traffic_input *in, struct radio_sim *sim, struct rng *rng,
                    double end_s)
{
    double h = in->period_s, last = 0;
    double a = traffic_next_arrival(in, rng, 0);
    for (;;) {
        double t, bytes = in->event_bytes;
        if (h > 0 && a - last >= h) {
            t = last + h; /* a heartbeat comment */
        } else {
            t = a;
            bytes *= in->burst_size > 0 ? in->burst_size : 1;
            a = traffic_next_arrival(in, rng, a);
        }
        if (!(t < end_s))
            return;
        radio_sim_burst(sim, t, 0, bytes);
        last = t;
    }
}

/* r * ceil(D / r), r the stream's `retry:`: the stream was cut at the crash, and each
 * attempt to open it again waits r. */
static double outage_model_ms(const struct lab_row *r, double down_ms)
{
    double retry = lab_num(r->settings, "retry_ms");
    return retry > 0 ? retry * ceil(down_ms / retry) : NAN;
}

static void style(const cJSON *set, const cJSON *swept, struct lab_style *s)
{
    (void)set;
    snprintf(s->series, sizeof(s->series), "sse");
    snprintf(s->series_title, sizeof(s->series_title), "SSE");
    snprintf(s->color, sizeof(s->color), "#009E73");
    s->point_type = 13;
    s->point_size = 2.4;
    s->lines = false;
    snprintf(s->label, sizeof(s->label), "SSE");
    lab_style_add_swept(&lab_approach_sse, swept, s);
}

const struct lab_approach lab_approach_sse = {
    .name = "sse",
    .title = "Server-Sent Events",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = NULL,
    .server_args = server_args,
    .client_args = NULL,
    .drain_s = NULL,
    .settle_s = NULL,
    .server_transport = "events",
    .bytes_split = bytes_split,
    .update_shares = update_shares,
    .model_inputs = model_inputs,
    .predict = predict,
    .model_source = "SSE: one transit; framing per the WHATWG HTML event-stream format.",
    .columns = NULL,
    .setting_text = setting_text,
    .describe = describe,
    .baseline = false,
    .compared = true,
    .findings = NULL,
    .details = details,
    .outage_model_ms = outage_model_ms,
    .outage_model_text = "SSE r * ceil(D / r), r the stream's `retry:` (the stream was cut "
                         "at the crash, and each attempt waits r)",
    .restart_lesson =
        "SSE also loses next to nothing, but its users all lost their streams at the same "
        "instant and all wait the same `retry:` delay, so they return in one burst one "
        "retry after the crash.",
    .reconnect_text = "SSE waits its retry delay (the stream's `retry:`) and resumes with "
                      "`Last-Event-ID`.",
    .buffering_text =
        "An SSE event waits until enough later events and heartbeats have arrived to fill "
        "the buffer, so SSE's latency becomes the time the feed takes to produce that many "
        "bytes, not one transit (RFC 6202 section 3.2). This is why the server sends "
        "`X-Accel-Buffering: no` (nginx then passes the stream through unbuffered); a "
        "proxy "
        "that does not honour it needs buffering turned off for the stream's path. Updates "
        "still in the buffer when the run ended never reached the users: they count as "
        "missed, though they were only delayed.",
    .traffic = traffic,
    .period_key = "heartbeat_s",
    .period_unit_s = 1,
    .period_title = "heartbeat",
    .proxy_text = "a response that never ends: a buffering proxy holds its events until a "
                  "buffer fills (the server sends X-Accel-Buffering: no; others need "
                  "buffering off for the path), an idle timeout cuts a stream quieter than "
                  "its heartbeat, and over HTTP/1.1 a browser opens at most 6 per origin",
    .style = style,
    .plot_rank = NULL,
};
