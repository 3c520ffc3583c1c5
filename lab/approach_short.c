/* approach_short.c: short polling on the lab's side: GET /poll every interval_ms, asking
 * for the latest state (If-None-Match, a 304 when nothing changed) or for every update
 * after a cursor (?since=N). Its row of the approach table (approach.h): settings, flags,
 * model, report sentences and plot style.
 *
 * The model (docs/MODELS.md, "Short polling"). Notation: T poll interval, P = 1/lambda
 * the update period (periodic), Pb = B/lambda the burst period, lambda the rate, d the
 * one-way delay. Each client polls at a random phase, so an update waits for the next
 * poll a time uniform in [0, T): mean T/2, worst T, plus one transit d.
 */
#include "approach.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lab.h"
#include "numfmt.h"
#include "scenario.h"

enum { SHORT_INTERVAL };
enum { POLL_STATE, POLL_EVENTS }; /* the choice's values */

static const struct field_spec settings[] = {
    [SHORT_INTERVAL] = {"interval_ms", 1, 3600000, false, false, true, true, false, 1000,
                        "a whole number of milliseconds from 1 to 3600000"},
};

static const char *const poll_modes[] = {"state", "events"};
static const struct lab_choice poll = {"poll", poll_modes, 2, "\"state\" or \"events\""};

static int client_args(const struct scenario_run *r, struct runargs *out)
{
    runargs_add(out, "--poll");
    runargs_add(out, poll_modes[r->choice]);
    runargs_add(out, "--interval");
    return runargs_addf(out, "%.0fms", r->set[SHORT_INTERVAL]);
}

/* The client waits one interval after the window for the last poll, plus a second. */
static double drain_s(const struct scenario_run *r)
{
    return r->set[SHORT_INTERVAL] / 1000.0 + 1.0;
}

/* Every user's first poll must fall before the window: one interval. */
static double settle_s(const double *set)
{
    return set[SHORT_INTERVAL] / 1000.0;
}

/* The bodies that carried news follow the updates; every poll's headers (and its 304)
 * follow the clock, and so do its requests. */
static void update_shares(const cJSON *res, double *bytes, double *requests)
{
    double down = lab_num(res, "resp_header_bytes") + lab_num(res, "resp_body_bytes") +
                  lab_num(res, "framing_bytes");
    *bytes = down > 0 ? lab_num(res, "resp_body_bytes") / down : 0;
    *requests = 0;
}

static void bytes_split(const cJSON *res, double *payload, double *framing)
{
    *payload = lab_num(res, "resp_body_bytes");
    *framing = lab_num(res, "framing_bytes");
}

static void model_inputs(const struct lab_row *r, struct model_input *in)
{
    in->interval_s = lab_num(r->settings, "interval_ms") / 1000.0;
}

static void predict(const struct model_input *in, struct model_prediction *o)
{
    double T = in->interval_s, d = in->delay_s, lam = in->rate_hz;
    bool state = in->choice == POLL_STATE;
    o->requests_per_client_min = 60.0 / T;
    o->latency_max_ms = (T + d) * 1e3;
    o->missed_share = state ? NAN : 0;
    if (in->process == MODEL_TRACE || lam <= 0)
        return;
    /* Periodic and bursty arrivals share one shape: an arrival every P seconds (a burst of
     * B updates for burst, of which state mode can only ever see the last). */
    double B = in->process == MODEL_BURST ? in->burst_size : 1;
    double P = B / lam;
    if (state && in->process != MODEL_POISSON && T > P) /* the newest is at most P old */
        o->latency_max_ms = (P + d) * 1e3;
    if (in->process == MODEL_POISSON) {
        double x = lam * T, e = exp(-x);
        o->empty_share = e;
        /* State mode sees at most the newest update per poll: of the lambda*T updates in a
         * period it receives one with probability 1 - e^-x (MODELS.md). Its age at the poll
         * is the time since the last arrival, Exp(lambda) conditioned on being < T. */
        if (state) {
            o->missed_share = 1 - (1 - e) / x;
            o->latency_mean_ms = (1 / lam - T * e / (1 - e) + d) * 1e3;
        } else {
            o->latency_mean_ms = (T / 2 + d) * 1e3;
        }
        /* Cho and Garcia-Molina's age of a copy synchronised every T under Poisson
         * change. */
        o->staleness_mean_ms = (T / 2 - 1 / lam + (1 - e) / (lam * lam * T)) * 1e3;
        return;
    }
    /* Periodic (or bursts): polls faster than arrivals are mostly redundant (Bozdag et al.
     * 2007: 1 - T/P); slower ones see only the newest, aged uniformly in [0, P). */
    if (T <= P) {
        o->empty_share = 1 - T / P;
        o->latency_mean_ms = (T / 2 + d) * 1e3;
        /* Behind for U + d per period (U ~ U[0,T) until a poll reaches the server, then
         * the answer's transit), age rising 0..U+d: area (U+d)^2/2 over P, so
         * E[(U+d)^2]/(2P) = (T^2/3 + T d + d^2)/(2P); T^2/(6P) on loopback. */
        o->staleness_mean_ms = (T * T / 3 + T * d + d * d) / (2 * P) * 1e3;
        if (state)
            o->missed_share = (B - 1) / B;
    } else {
        o->empty_share = 0;
        o->latency_mean_ms = ((state ? P / 2 : T / 2) + d) * 1e3;
        /* Per poll cycle: up to date for P - U (U ~ U[0,P) the newest update's age at the
         * poll), then behind and ageing for T - P + U: mean (T^3 - (T-P)^3) / (6TP). */
        o->staleness_mean_ms = (T * T * T - pow(T - P, 3)) / (6 * T * P) * 1e3;
        if (state)
            o->missed_share = 1 - P / (T * B);
    }
}

static void setting_text(const struct lab_row *r, char *buf, size_t len)
{
    snprintf(buf, len, "every %.15g ms, %s", lab_num(r->settings, "interval_ms"),
             r->choice == POLL_EVENTS ? "cursor" : "If-None-Match");
}

static void describe(const struct lab_row *r, char *buf, size_t len)
{
    snprintf(buf, len, "short polling every %.15g ms", lab_num(r->settings, "interval_ms"));
}

/* Why a cursor, which fetches every update, still missed some in run r. */
static void cursor_miss_cause(const struct lab_row *r, char *buf, size_t len)
{
    const cJSON *restart = cJSON_GetObjectItemCaseSensitive(r->record, "restart");
    if (r->settle_s > r->warmup_s + 1e-9)
        snprintf(
            buf, len,
            "its warm-up (%.15g s) was shorter than one interval (%.15g s), so the updates "
            "published in the window before some users' first polls were never asked "
            "for",
            r->warmup_s, r->settle_s);
    else if (r->restart && strcmp(lab_str(restart, "feed"), "memory") == 0)
        snprintf(buf, len,
                 "the server restarted with its feed in memory, and what it had "
                 "published and a user had not fetched was gone");
    else
        snprintf(buf, len,
                 "they were published in the window's last moments and were still on their "
                 "way when the client stopped (its drain was %.15g s)",
                 lab_num(r->res, "drain_s"));
}

/* Polling's two costs: answers that brought nothing (the fastest interval) and updates
 * it never delivered: those the latest state never showed (state mode, the slowest
 * interval), or those a cursor missed although it fetches every one (cursor mode, which
 * has a cause worth naming). Each only when its run rests on enough updates, except a
 * cursor's miss, which is a fact whatever the sample. */
static int findings(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    const struct lab_row *fast = NULL, *slow = NULL, *cursor_miss = NULL;
    for (size_t i = 0; i < n; i++) {
        const struct lab_row *r = &rows[i];
        if (r->approach != &lab_approach_short)
            continue;
        double t = lab_num(r->settings, "interval_ms");
        if (!fast || t < lab_num(fast->settings, "interval_ms"))
            fast = r;
        if (r->choice == POLL_STATE &&
            (!slow || t > lab_num(slow->settings, "interval_ms")))
            slow = r;
        if (r->choice == POLL_EVENTS && r->missed > 0 && !cursor_miss)
            cursor_miss = r;
    }
    int rc = 0;
    char what[160], cause[320], v[4][NUMFMT_LEN];
    if (fast && fast->empty > 0) {
        double t = lab_num(fast->settings, "interval_ms");
        struct report_judgement j;
        report_judge(fast, REPORT_EMPTY, &j);
        snprintf(what, sizeof(what), "Answers that brought nothing, polling every %.15g ms",
                 t);
        if (report_few_samples(fast))
            rc = report_too_few(b, fast, what);
        else
            rc = dynbuf_addf(
                b,
                "- Polling every %.15g ms, %s of the answers (95%%: %s–%s) brought "
                "nothing new (model %s): each still cost a full header "
                "exchange.\n",
                t, numfmt_pct(v[0], sizeof(v[0]), fast->empty, 2),
                numfmt_pct(v[1], sizeof(v[1]), j.iv.lo, 2),
                numfmt_pct(v[2], sizeof(v[2]), j.iv.hi, 2),
                numfmt_pct(v[3], sizeof(v[3]), fast->m.empty_share, 2));
    }
    if (rc == 0 && slow && slow->missed > 0) {
        double t = lab_num(slow->settings, "interval_ms");
        snprintf(what, sizeof(what),
                 "Updates polling the latest state every %.15g ms never saw", t);
        if (report_few_samples(slow))
            rc = report_too_few(b, slow, what);
        else
            rc =
                dynbuf_addf(b,
                            "- Polling the latest state every %.15g ms never saw %s of the "
                            "updates (model %s); a cursor (`since`) would have fetched "
                            "them, late.\n",
                            t, numfmt_pct(v[0], sizeof(v[0]), slow->missed, 2),
                            numfmt_pct(v[1], sizeof(v[1]), slow->m.missed_share, 2));
    }
    if (rc == 0 && cursor_miss) {
        cursor_miss_cause(cursor_miss, cause, sizeof(cause));
        rc = dynbuf_addf(b,
                         "- Polling with a cursor every %.15g ms missed %s of the updates "
                         "published in the window, though a cursor fetches every one: "
                         "%s.\n",
                         lab_num(cursor_miss->settings, "interval_ms"),
                         numfmt_pct(v[0], sizeof(v[0]), cursor_miss->missed, 2), cause);
    }
    return rc;
}

/* An exchange every interval, from a random phase: the request up, the answer down. */
static void traffic(const struct traffic_input *in, struct radio_sim *sim, struct rng *rng,
                    double end_s)
{
    double T = in->period_s;
    if (!(T > 0))
        return;
    for (double t = rng_uniform(rng) * T; t < end_s; t += T)
        radio_sim_burst(sim, t, in->request_bytes, in->answer_bytes);
}

/* A user's outage begins at its first poll after the crash and ends a whole number of
 * intervals later at the first poll the successor answers: the mean is D when D >= T;
 * when D < T only the share D/T of users has a poll in the gap, each out for one
 * interval. */
static double outage_model_ms(const struct lab_row *r, double down_ms)
{
    return fmax(down_ms, lab_num(r->settings, "interval_ms"));
}

static void style(const cJSON *set, const cJSON *swept, struct lab_style *s)
{
    (void)swept; /* its interval is always in its label */
    bool events = strcmp(lab_str(set, "poll"), "events") == 0;
    double t = lab_num(set, "interval_ms");
    snprintf(s->series, sizeof(s->series), "short-%s", events ? "events" : "state");
    snprintf(s->series_title, sizeof(s->series_title), "%s",
             events ? "short polling with a cursor" : "short polling");
    snprintf(s->color, sizeof(s->color), "%s", events ? "#D55E00" : "#E69F00");
    s->point_type = events ? 5 : 7;
    s->point_size = events ? 1.4 : 1.5;
    s->lines = true;
    snprintf(s->label, sizeof(s->label), "%s", events ? "short+cursor" : "short");
    snprintf(s->label_detail, sizeof(s->label_detail), "%.15g ms", t);
    snprintf(s->point_label, sizeof(s->point_label), "%.15g ms", t);
}

/* One run for the staleness plot: the interval nearest 1 s, the classic refresh. */
static double plot_rank(const cJSON *set)
{
    double t = lab_num(set, "interval_ms");
    return t > 0 ? fabs(log(t / 1000)) : INFINITY;
}

const struct lab_approach lab_approach_short = {
    .name = "short",
    .title = "Short polling",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = &poll,
    .server_args = NULL,
    .client_args = client_args,
    .drain_s = drain_s,
    .settle_s = settle_s,
    .server_transport = "poll",
    .bytes_split = bytes_split,
    .update_shares = update_shares,
    .model_inputs = model_inputs,
    .predict = predict,
    .model_source = "Short polling: uniform wait within the period, T/2 + d; redundant and "
                    "missed polls as in Bozdag, Mesbah and van Deursen, \"A Comparison of "
                    "Push and Pull Techniques for Ajax\" (2007).",
    .columns = NULL,
    .setting_text = setting_text,
    .describe = describe,
    .baseline = true,
    .compared = false,
    .findings = findings,
    .details = NULL,
    .outage_model_ms = outage_model_ms,
    .outage_model_text =
        "short polling max(D, T), T its interval (a user's outage begins at its first poll "
        "after the crash, which falls uniformly within an interval, and ends a whole "
        "number "
        "of intervals later at the first poll the successor answers, so the mean is D when "
        "D >= T; when D < T only the share D / T of users has a poll in the gap, each out "
        "for one interval, and the others have no outage at all)",
    .restart_lesson =
        "Short polling loses what half an interval holds on average (rate * T / 2 per "
        "user; "
        "with a periodic source it also depends on where the crash falls between two "
        "publishes); its users keep their random phases and never bunch.",
    .reconnect_text =
        "A poll that dies on a kept-alive connection before any answer byte is sent again "
        "at "
        "once on a fresh one (libcurl does this, as browsers do for a GET), so cursor "
        "polling mostly loses a round trip and a handshake; after any other failure (a "
        "transfer error) the next poll, on its own schedule, resumes with the cursor.",
    .buffering_text = "Short polling answers with complete responses, which a real proxy "
                      "forwards whole.",
    .traffic = traffic,
    .period_key = "interval_ms",
    .period_unit_s = 0.001,
    .period_title = "poll interval",
    .proxy_text = "plain requests and complete answers: every proxy passes them; a proxy "
                  "that closes idle keep-alive connections sooner than the interval makes "
                  "each poll open a new connection (and, with TLS, a handshake)",
    .style = style,
    .plot_rank = plot_rank,
};
