/* approach_long.c: long polling on the lab's side: GET /longpoll?since=N in a loop, each
 * request held by the server until an update exists or timeout_s passes. Its row of the
 * approach table (approach.h): settings, flags, model, report sentences and plot style.
 *
 * The model (docs/MODELS.md, "Long polling"), after RFC 6202 section 2.2. Notation: d
 * the one-way delay, tau the timeout, W = 2d + c the blind window between an answer and
 * the next held request (c the client's turnaround). An update finds a request waiting
 * unless it falls into the blind window; then it waits for the rest of W and rides the
 * next answer, batched with anything else that arrived.
 */
#include "approach.h"

#include <math.h>
#include <stdio.h>

#include "lab.h"
#include "numfmt.h"
#include "scenario.h"

enum { LONG_TIMEOUT };

static const struct field_spec settings[] = {
    [LONG_TIMEOUT] = {"timeout_s", 1, 120, false, false, true, true, false, 30,
                      "a whole number of seconds from 1 to 120"},
};

/* The server holds a poll this long, and the client expects it to. */
static int timeout_args(const struct scenario_run *r, struct runargs *out)
{
    runargs_add(out, "--longpoll-timeout");
    return runargs_addf(out, "%.0fs", r->set[LONG_TIMEOUT]);
}

/* An answer that brought news, and the request after it, follow the updates; one that
 * timed out follows the clock. */
static void update_shares(const cJSON *res, double *bytes, double *requests)
{
    double news = lab_num(res, "responses_news");
    double all = news + lab_num(res, "responses_empty") + lab_num(res, "responses_304");
    *bytes = *requests = all > 0 ? news / all : 1;
}

static void bytes_split(const cJSON *res, double *payload, double *framing)
{
    *payload = lab_num(res, "resp_body_bytes");
    *framing = lab_num(res, "framing_bytes");
}

static void model_inputs(const struct lab_row *r, struct model_input *in)
{
    in->timeout_s = lab_num(r->settings, "timeout_s");
}

static void predict(const struct model_input *in, struct model_prediction *o)
{
    double d = in->delay_s, W = 2 * d + in->client_gap_s, lam = in->rate_hz;
    double tau = in->timeout_s;
    o->missed_share = 0;
    o->latency_max_ms = 3 * d * 1e3;
    o->staleness_mean_ms = NAN;
    if (in->process == MODEL_TRACE || lam <= 0)
        return;
    double B = in->process == MODEL_BURST ? in->burst_size : 1;
    if (in->process == MODEL_POISSON) {
        /* [d + k (W/2 + d)] / (1 + k) with k = x e^x, x = lambda W, rewritten so that a
         * huge k (e^x overflows past x ~ 709) gives W/2 + d instead of inf/inf. */
        double x = lam * W, inv = x > 700 ? 0 : 1 / (1 + x * exp(x));
        o->latency_mean_ms = (W / 2 + d - W / 2 * inv) * 1e3;
        /* A cycle: the blind window W, then, only if nothing arrived during it (e^-lW),
         * a held wait that ends at the first arrival or at tau. A request that finds
         * news from its blind window is answered at once. */
        double idle = exp(-lam * W);
        double cycle = W + idle * (1 - exp(-lam * tau)) / lam;
        o->requests_per_client_min = 60.0 / cycle;
        o->empty_share = idle * exp(-lam * tau);
    } else {
        double P = B / lam; /* arrivals (bursts) are P apart: each one answers a request */
        o->latency_mean_ms = (P > W ? d : W / 2 + d) * 1e3;
        double answers = P > tau ? ceil(P / tau) : 1; /* timeouts before each arrival */
        o->requests_per_client_min = 60.0 * answers / (P > W ? P : W);
        o->empty_share = (answers - 1) / answers;
    }
}

static void setting_text(const struct lab_row *r, char *buf, size_t len)
{
    snprintf(buf, len, "timeout %.15g s", lab_num(r->settings, "timeout_s"));
}

static void describe(const struct lab_row *r, char *buf, size_t len)
{
    (void)r;
    snprintf(buf, len, "long polling");
}

/* What a held request costs per update: its first run's requests per receipt, on the
 * path it had. */
static int findings(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct lab_row *r = &rows[i];
        if (r->approach != &lab_approach_long)
            continue;
        if (!(r->received > 0))
            return 0;
        if (report_few_samples(r))
            return report_too_few(b, r, "Long polling's requests per update");
        char path[96], worst[160] = "", v[3][NUMFMT_LEN];
        report_path_text(r, path, sizeof(path));
        if (r->delay_ms > 0)
            snprintf(
                worst, sizeof(worst),
                "; an update published in its blind window waits up to three transits, "
                "%s ms here",
                numfmt(v[0], sizeof(v[0]), 3 * r->delay_ms, 3));
        return dynbuf_addf(
            b,
            "- Long polling sent %s requests per update received (%s per "
            "client per minute) at a mean latency of %s ms %s%s.\n",
            numfmt(v[1], sizeof(v[1]), lab_num(r->res, "requests") / r->received, 3),
            numfmt(v[2], sizeof(v[2]), r->req_min, 4),
            numfmt(v[0], sizeof(v[0]), r->lat_mean, 3), path, worst);
    }
    return 0;
}

/* A held request answered at each update arrival (the answer down and the next request
 * up, one burst), or at the timeout when none came first. */
static void traffic(const struct traffic_input *in, struct radio_sim *sim, struct rng *rng,
                    double end_s)
{
    double tau = in->period_s, asked = 0;
    double a = traffic_next_arrival(in, rng, 0);
    for (;;) {
        double t;
        if (tau > 0 && a - asked > tau) {
            t = asked + tau; /* an empty answer */
        } else {
            t = a;
            a = traffic_next_arrival(in, rng, a);
        }
        if (!(t < end_s))
            return;
        radio_sim_burst(sim, t, in->request_bytes, in->answer_bytes);
        asked = t;
    }
}

/* b * ceil(D / b), b the client's backoff after a failed poll: the held poll failed at
 * the crash, and a poll that reaches the successor ends the outage even while held. */
static double outage_model_ms(const struct lab_row *r, double down_ms)
{
    double b = lab_num(r->res, "error_backoff_ms");
    return b > 0 ? b * ceil(down_ms / b) : NAN;
}

static void style(const cJSON *set, const cJSON *swept, struct lab_style *s)
{
    (void)set;
    snprintf(s->series, sizeof(s->series), "long");
    snprintf(s->series_title, sizeof(s->series_title), "long polling");
    snprintf(s->color, sizeof(s->color), "#0072B2");
    s->point_type = 9;
    s->point_size = 2.2;
    s->lines = false;
    snprintf(s->label, sizeof(s->label), "long poll");
    lab_style_add_swept(&lab_approach_long, swept, s);
}

const struct lab_approach lab_approach_long = {
    .name = "long",
    .title = "Long polling",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = NULL,
    .server_args = timeout_args,
    .client_args = timeout_args,
    .drain_s = NULL,
    .settle_s = NULL,
    .server_transport = "longpoll",
    .bytes_split = bytes_split,
    .update_shares = update_shares,
    .model_inputs = model_inputs,
    .predict = predict,
    .model_source = "Long polling: RFC 6202 section 2.2 (latency up to three transits, "
                    "batching in the blind window).",
    .columns = NULL,
    .setting_text = setting_text,
    .describe = describe,
    .baseline = false,
    .compared = false,
    .findings = findings,
    .details = NULL,
    .outage_model_ms = outage_model_ms,
    .outage_model_text =
        "long polling b * ceil(D / b), b the client's backoff after a failed poll (the "
        "held "
        "poll failed at the crash; a poll that reaches the successor ends the outage even "
        "while it is held, waiting for news)",
    .restart_lesson =
        "Long polling loses next to nothing, since each update left the moment it was "
        "published; its users back off in step and knock on the closed port together.",
    .reconnect_text =
        "A long poll that dies before any answer byte is sent again at once on a fresh "
        "connection, losing a round trip and a handshake; any other failure is a transfer "
        "error and waits the client's backoff (1 s) before resuming with the cursor.",
    .buffering_text = "Long polling answers with complete responses, which a real proxy "
                      "forwards whole.",
    .traffic = traffic,
    .period_key = "timeout_s",
    .period_unit_s = 1,
    .period_title = "long-poll timeout",
    .proxy_text = "a request held open: a proxy or load balancer whose response timeout is "
                  "shorter than the hold cuts it (keep the hold under 30 s, RFC 6202 "
                  "section 5.5), and each cut costs a reconnect",
    .style = style,
    .plot_rank = NULL,
};
