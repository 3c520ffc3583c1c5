/* report_capacity.c: the report's sections for a decision: what each run costs at the
 * target population ("At the target population"), what it costs a phone ("The phone's
 * radio"), and the summary to paste into a decision record ("For your decision
 * record"). Every figure is one the merge computed (lab/capacity.h) and summary.csv
 * holds; this file formats them, says what each rests on and how sure it is, and, for
 * the radio's lesson, evaluates the radio model at a few more periods.
 */
#include "report.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "approach.h"
#include "lab.h"
#include "numfmt.h"
#include "radio.h"
#include "scenario.h"
#include "traffic.h"

#define CPU_TOO_LITTLE_S 0.05  /* less CPU in the window: too little to scale */
#define CPU_READING_S    0.002 /* two readings of a millisecond each */
#define RSS_READING_KIB  8.0   /* two readings of 4 KiB pages */

static double cap(const struct lab_row *r, const char *key)
{
    return lab_num(r->cap, key);
}

/* "9,010 GB" from GB, or "12.3 TB" from 1,000 GB up. */
static const char *bytes_text(char *buf, size_t len, double gb)
{
    char num[NUMFMT_LEN];
    if (gb >= 1000)
        snprintf(buf, len, "%s TB", numfmt(num, sizeof(num), gb / 1000, 3));
    else
        snprintf(buf, len, "%s GB", numfmt(num, sizeof(num), gb, 3));
    return buf;
}

/* " ±12%" from a relative uncertainty in percent, or "" (unknown, or under half a
 * percent). */
static const char *pm(char *buf, size_t len, double pct)
{
    char num[NUMFMT_LEN];
    if (isnan(pct) || isinf(pct) || pct < 0.5)
        buf[0] = '\0';
    else
        snprintf(buf, len, " ±%s%%", numfmt(num, sizeof(num), pct, 2));
    return buf;
}

/* The server CPU's relative uncertainty: the window's updates (as far as its bytes or
 * its requests follow them) and two readings. */
static double cpu_pct(const struct lab_row *r)
{
    double u = fmax(cap(r, "bytes_uncertainty_pct"), cap(r, "requests_uncertainty_pct"));
    double cpu = cap(r, "server_cpu_window_s");
    double reading = 100 * CPU_READING_S / cpu;
    return sqrt((isnan(u) ? 0 : u * u) + reading * reading);
}

/* Memory's: two readings in pages over what the connections took. */
static double memory_pct(const struct lab_row *r)
{
    double grew = cap(r, "server_rss_window_kib") - cap(r, "server_rss_idle_kib");
    return grew > 0 ? 100 * RSS_READING_KIB / grew : NAN;
}

/* "200 users, 15 s (clock x30)" */
static void measured_text(const struct lab_row *r, char *buf, size_t len)
{
    char n[NUMFMT_LEN], c[NUMFMT_LEN];
    snprintf(buf, len, "%s users, %.15g s%s%s%s", numfmt(n, sizeof(n), r->clients, 9),
             r->duration_s, r->compression > 1 ? " (clock ×" : "",
             r->compression > 1 ? numfmt(c, sizeof(c), r->compression, 3) : "",
             r->compression > 1 ? ")" : "");
}

static int capacity_row(struct dynbuf *b, const struct lab_row *r)
{
    char m[96], down[48], up[48], cores[64], t[8][NUMFMT_LEN], u[5][24];
    double ub = cap(r, "bytes_uncertainty_pct"), ureq = cap(r, "requests_uncertainty_pct");
    double req = cap(r, "requests_per_s_target");
    measured_text(r, m, sizeof(m));
    bytes_text(down, sizeof(down), cap(r, "down_gb_month_target"));
    bytes_text(up, sizeof(up), cap(r, "up_gb_month_target"));
    if (cap(r, "server_cpu_window_s") < CPU_TOO_LITTLE_S)
        snprintf(cores, sizeof(cores), "too little CPU to scale (%s s)",
                 numfmt(t[0], sizeof(t[0]), cap(r, "server_cpu_window_s"), 2));
    else
        snprintf(cores, sizeof(cores), "%s%s",
                 numfmt(t[0], sizeof(t[0]), cap(r, "server_cores_target"), 3),
                 pm(u[0], sizeof(u[0]), cpu_pct(r)));
    /* up is requests: they follow the clock or the updates as the requests do */
    return dynbuf_addf(
        b, "| %s | %s | %s%s | %s%s | %s%s | %s | %s | %s GiB%s | %s USD%s |\n", r->id, m,
        down, pm(u[1], sizeof(u[1]), ub), up, pm(u[2], sizeof(u[2]), req > 0 ? ureq : NAN),
        numfmt(t[1], sizeof(t[1]), req, 3), pm(u[3], sizeof(u[3]), req > 0 ? ureq : NAN),
        numfmt(t[2], sizeof(t[2]), cap(r, "connections_target"), 3), cores,
        numfmt(t[3], sizeof(t[3]), cap(r, "server_memory_gib_target"), 3),
        pm(u[4], sizeof(u[4]), memory_pct(r)),
        numfmt(t[4], sizeof(t[4]), cap(r, "egress_usd_month_target"), 3),
        pm(u[1], sizeof(u[1]), ub));
}

/* What the scaling rests on: one N, steady, or still changing with N. */
static int scaling_note(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    char changing[1024] = "";
    bool one = false, steady = false;
    for (size_t i = 0; i < n; i++) {
        const char *s = lab_str(rows[i].cap, "scaling");
        one = one || strcmp(s, "one N") == 0;
        steady = steady || strcmp(s, "steady") == 0;
        if (strcmp(s, "changing") == 0)
            report_appendf(changing, sizeof(changing), "%s%s", changing[0] ? ", " : "",
                           rows[i].id);
    }
    int rc = 0;
    if (changing[0])
        rc =
            dynbuf_addf(b,
                        "- **Too small to scale from**: %s. Between the two largest N of "
                        "their `clients` sweep the cost per user (bandwidth, CPU or memory "
                        "per connection) still changed by more than 25%%, so the figures "
                        "at the target are not a straight line from here: measure nearer "
                        "the target.\n",
                        changing);
    if (rc == 0 && steady)
        rc =
            dynbuf_adds(b, "- Where the scenario swept `clients`, the cost per user held "
                           "within 25% between its two largest N: scaling from the largest "
                           "is a straight line.\n");
    if (rc == 0 && one)
        rc = dynbuf_adds(
            b, "- A run measured at one N only: its cost per user is taken to stay what it "
               "was there (sweep `clients` to see whether it does). At a small N the "
               "server's fixed costs (its generator, the client's observer stream, the "
               "process itself) weigh on every user, so CPU and memory per user are "
               "overestimates there.\n");
    return rc;
}

int report_capacity(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    if (!rows[0].cap)
        return 0;
    char users[NUMFMT_LEN];
    numfmt(users, sizeof(users), cap(&rows[0], "target_users"), 9);
    int rc = dynbuf_addf(
        b,
        "\n## At the target population: %s users\n\n"
        "Each run's cost per user on the full scenario's clock, scaled linearly to %s "
        "users (the scenario's `target`). ± is a 95%% half-width where one is known. The "
        "same figures, and the inputs they come from, are columns of summary.csv; the "
        "arithmetic of each is in docs/MODELS.md (\"At the target population\").\n\n"
        "| run | measured at | bandwidth / month, down | up | requests / s | connections "
        "held | server CPU cores | server memory | egress / month |\n"
        "|---|---|---|---|---|---|---|---|---|\n",
        users, users);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = capacity_row(b, &rows[i]);
    rc =
        rc ? rc
           : dynbuf_addf(
                 b,
                 "\nBases:\n\n"
                 "- Bandwidth: the window's bytes each way (HTTP headers, bodies, "
                 "framing, a WebSocket's handshake and frames, the users' messages "
                 "included; checked against the kernel's counts; TCP/IP and TLS overhead "
                 "not included) ÷ (users × window seconds × the quick clock's factor) × "
                 "2,592,000 s (30 days) × target users ÷ 10^9. Egress: the downstream GB "
                 "× %.15g US dollars per GB. Requests: the window's requests (the "
                 "messages' POSTs included), the same way. "
                 "±: the window held n updates, a count that strays by 1.96/√n for "
                 "Poisson arrivals (by one update for periodic ones); it applies to the "
                 "part of the cost that follows updates (news and events: each approach's "
                 "row says which share), not to what follows the clock (polls and their "
                 "headers, timeouts, heartbeats), which is left without a ± when it is "
                 "all of it.\n"
                 "- Connections: the server's open connections at the window's start, "
                 "less those before the client started (the /stats request's own) and "
                 "the client's observer stream, per user.\n"
                 "- Server CPU: its CPU seconds from the window's start to the client's "
                 "end (the window and the drain) per user-hour, ÷ the quick clock's "
                 "factor; cores = that × target users ÷ 3,600. ± adds the two readings' "
                 "millisecond to the window's update count. One run on a shared "
                 "%.15g-core machine: repeat it to see the run-to-run spread, which this "
                 "does "
                 "not measure.\n"
                 "- Server memory: its resident memory before the client started, plus the "
                 "growth to the window's start per connection opened, times the "
                 "connections at the target. ±: two readings of 4 KiB pages over the "
                 "growth; the allocator keeps what it once took, so this is memory "
                 "held, not memory in use.\n",
                 cap(&rows[0], "egress_usd_per_gb"), lab_num(rows[0].meta, "cpus"));
    return rc ? rc : scaling_note(b, rows, n);
}

/* ---- the phone's radio ------------------------------------------------------------ */

/* The radio model of a run, as run.json holds it. */
static void radio_of(const struct lab_row *r, struct radio_params *p)
{
    if (scenario_radio_from_json(cJSON_GetObjectItemCaseSensitive(r->record, "radio"), p) !=
        0)
        radio_defaults(RADIO_LTE, p);
}

/* The radio energy above idle, J per user-hour, of approach a's traffic with the run's
 * rates and a period of period_s (lab/traffic.h). */
static double energy_at(const struct lab_row *r, const struct lab_approach *a,
                        double period_s)
{
    struct radio_params p;
    struct traffic_input in;
    radio_of(r, &p);
    traffic_input_of(r->run, a->period_key, a->period_unit_s, &in);
    in.period_s = period_s;
    struct radio_result h = traffic_estimate(a->traffic, &in, &p, 10, 1);
    return h.energy_j - h.idle_j;
}

/* The lesson with numbers: a heartbeat against polling at the same wake-up period and at
 * about the freshness push gives, for the first run of each compared approach that has
 * a period (a heartbeat), against the baseline approach. */
static int heartbeat_lesson(struct dynbuf *b, const struct lab_row *rows, size_t n,
                            const struct radio_params *p)
{
    const struct lab_approach *base = NULL;
    const struct lab_row *base_row = NULL;
    for (size_t i = 0; i < n && !base; i++)
        if (rows[i].approach->baseline && rows[i].approach->traffic) {
            base = rows[i].approach;
            base_row = &rows[i];
        }
    int rc = 0;
    for (size_t i = 0; rc == 0 && base && i < n; i++) {
        const struct lab_row *r = &rows[i];
        const struct lab_approach *a = r->approach;
        double h = cap(r, "radio_period_s");
        if (!a->compared || !a->traffic || !(h > 0))
            continue;
        double push = cap(r, "radio_j_per_user_h");
        double bare = energy_at(r, a, 0); /* the same push without its heartbeat */
        double same = energy_at(base_row, base, h), fresh = energy_at(base_row, base, 1);
        char t[8][NUMFMT_LEN], name[96], base_name[96];
        a->describe(r, name, sizeof(name));
        snprintf(base_name, sizeof(base_name), "%s", base->title);
        base_name[0] = (char)tolower((unsigned char)base_name[0]); /* mid-sentence */
        numfmt(t[0], sizeof(t[0]), h, 3);
        rc = dynbuf_addf(
            b,
            "\nA heartbeat is a poll the server sends. %s with a %s s %s costs a phone %s "
            "J "
            "an hour, %s J of it for the %s (without one: %s J); %s every %s s, which "
            "wakes "
            "the radio as often but leaves an update up to %s s late, costs %s J; polling "
            "every second, still half a second behind on average against %s ms for %s, "
            "keeps the radio awake all the time: %s J. ",
            name, t[0], a->period_title, numfmt(t[1], sizeof(t[1]), push, 3),
            numfmt(t[2], sizeof(t[2]), push - bare, 3), a->period_title,
            numfmt(t[3], sizeof(t[3]), bare, 3), base_name, t[0], t[0],
            numfmt(t[4], sizeof(t[4]), same, 3), numfmt(t[5], sizeof(t[5]), r->lat_mean, 3),
            name, numfmt(t[6], sizeof(t[6]), fresh, 3));
        double arrivals = lab_num(r->cfg, "rate_hz") / r->compression;
        if (strcmp(lab_str(r->cfg, "process"), "burst") == 0)
            arrivals /= lab_num(r->cfg, "burst_size");
        double tail = p->tail_s + p->tail2_s;
        numfmt(t[7], sizeof(t[7]), tail, 3);
        if (rc == 0 && arrivals > 0 && 1 / arrivals < tail)
            rc = dynbuf_addf(
                b,
                "Here updates arrive every %s s on average, inside the radio's "
                "%s s tail: whatever delivers them promptly keeps the radio out "
                "of idle most of the time, and only polling slower than the "
                "tail lets it sleep, paying in freshness.\n",
                numfmt(t[0], sizeof(t[0]), 1 / arrivals, 3), t[7]);
        else if (rc == 0)
            rc = dynbuf_addf(b,
                             "Updates here are rarer than the radio's %s s tail, so a "
                             "heartbeat shorter than it keeps the radio awake between "
                             "updates: set it as long as the proxies on the path allow.\n",
                             t[7]);
        break; /* one lesson */
    }
    return rc;
}

int report_radio(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    if (!rows[0].cap || !cJSON_GetObjectItemCaseSensitive(rows[0].cap, "radio_basis"))
        return 0;
    struct radio_params p;
    radio_of(&rows[0], &p);
    char t[8][NUMFMT_LEN];
    bool estimate = false;
    for (size_t i = 0; i < n; i++)
        estimate = estimate || strcmp(lab_str(rows[i].cap, "radio_basis"), "estimate") == 0;
    int rc = dynbuf_addf(
        b,
        "\n## The phone's radio\n\n"
        "What each approach costs a phone's cellular radio, per user-hour on the full "
        "scenario's clock, under the %s model: promotion %s ms at %s mW, a tail of %s ms "
        "at %s mW%s, idle %s mW on average (docs/MODELS.md, \"Mobile radio energy\", for "
        "the sources and the parameters). A wake-up is a promotion out of idle; the radio "
        "is out of idle while promoting, transferring and in its tail. Energy is above "
        "idle: what the traffic adds; battery: of a %s Wh battery per day.%s\n\n"
        "| run | %s | wake-ups / h | out of idle, s / h | radio energy, J / h | battery / "
        "day | basis |\n|---|---|---|---|---|---|---|\n",
        p.model == RADIO_3G ? "3G (two tails)" : "LTE (Huang et al., MobiSys 2012)",
        numfmt(t[0], sizeof(t[0]), p.promotion_s * 1000, 4),
        numfmt(t[1], sizeof(t[1]), p.promotion_w * 1000, 4),
        numfmt(t[2], sizeof(t[2]), p.tail_s * 1000, 5),
        numfmt(t[3], sizeof(t[3]), p.tail_w * 1000, 4),
        p.tail2_s > 0 ? ", then a second" : "",
        numfmt(t[4], sizeof(t[4]), p.idle_w * 1000, 3),
        numfmt(t[5], sizeof(t[5]), p.battery_wh, 3),
        estimate
            ? " Estimate: each user's traffic is rebuilt from the run's own rates (its "
              "interval, timeout or heartbeat, the update rate, the bytes it measured "
              "per request, answer and event), since the run has no complete traffic.csv "
              "(--traffic-log off, rows dropped past its cap, or an older client); TCP's "
              "own acknowledgements, retransmissions, DNS and TLS are not in it."
            : "",
        "period (s)");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        double period = cap(r, "radio_period_s");
        char per[64] = "-";
        if (period > 0)
            snprintf(per, sizeof(per), "%s: %s", r->approach->period_title,
                     numfmt(t[0], sizeof(t[0]), period, 3));
        rc = dynbuf_addf(
            b, "| %s | %s | %s | %s | %s | %s | %s |\n", r->id, per,
            numfmt(t[1], sizeof(t[1]), cap(r, "radio_wakeups_per_user_h"), 3),
            numfmt(t[2], sizeof(t[2]), cap(r, "radio_high_s_per_user_h"), 3),
            numfmt(t[3], sizeof(t[3]), cap(r, "radio_j_per_user_h"), 3),
            numfmt_pct(t[4], sizeof(t[4]), cap(r, "radio_battery_pct_per_day") / 100, 2),
            lab_str(r->cap, "radio_basis"));
    }
    return rc ? rc : heartbeat_lesson(b, rows, n, &p);
}

/* ---- the decision record ---------------------------------------------------------- */

/* The option a run stands for, in words: "Short polling, every 5000 ms, If-None-Match";
 * a quick run's setting is on its clock, so the full clock's period is added. */
static void option_text(const struct lab_row *r, char *buf, size_t len)
{
    char setting[128] = "", num[NUMFMT_LEN];
    if (r->approach->setting_text)
        r->approach->setting_text(r, setting, sizeof(setting));
    snprintf(buf, len, "%s%s%s", r->approach->title, setting[0] ? ", " : "", setting);
    double period = cap(r, "radio_period_s");
    if (r->compression > 1 && period > 0)
        report_appendf(buf, len, " on the quick clock: a %s of %s s on the full one",
                       r->approach->period_title, numfmt(num, sizeof(num), period, 3));
}

/* The latency an option gives: measured with its interval, or on a quick run the model on
 * the full scenario's clock, the measurement beside it. */
static void latency_text(const struct lab_row *r, char *buf, size_t len)
{
    char m[NUMFMT_LEN], f[NUMFMT_LEN], h[NUMFMT_LEN];
    struct report_judgement j;
    report_judge(r, REPORT_LATENCY, &j);
    if (r->compression > 1)
        snprintf(buf, len, "%s ms (model, full clock; %s ms measured on the quick clock)",
                 numfmt(f, sizeof(f), r->m_full.latency_mean_ms, 3),
                 numfmt(m, sizeof(m), r->lat_mean, 3));
    else if (!isnan(j.iv.lo))
        snprintf(buf, len, "%s ±%s ms", numfmt(m, sizeof(m), r->lat_mean, 3),
                 numfmt(h, sizeof(h), (j.iv.hi - j.iv.lo) / 2, 2));
    else
        snprintf(buf, len, "%s ms", numfmt(m, sizeof(m), r->lat_mean, 3));
}

int report_decision_record(struct dynbuf *b, const cJSON *scenario,
                           const struct lab_row *rows, size_t n, const char *models_link)
{
    const struct lab_row *r0 = &rows[0];
    if (!r0->cap)
        return 0;
    char t[8][NUMFMT_LEN];
    struct radio_params p;
    radio_of(r0, &p);
    numfmt(t[0], sizeof(t[0]), cap(r0, "target_users"), 9);
    numfmt(t[1], sizeof(t[1]), lab_num(r0->cfg, "rate_hz") / r0->compression, 3);
    char path[96];
    report_path_text(r0, path, sizeof(path));
    int rc = dynbuf_addf(
        b,
        "\n## For your decision record\n\n"
        "**Context.** %s: %s users on %s phones; updates arrive %s, about %s a second, "
        "%.15g-byte payloads; requests carry %s headers%s%s%s. Measured with pushpull "
        "(commit %s) %s, then scaled.\n\n**Options.**\n\n",
        lab_str(scenario, "name"), t[0], p.model == RADIO_3G ? "3G" : "LTE",
        lab_str(r0->cfg, "process"), t[1], lab_num(r0->cfg, "payload_bytes"),
        lab_str(r0->res, "headers"),
        lab_num(r0->settings, "cookie_bytes") > 0 ? " and a " : "",
        lab_num(r0->settings, "cookie_bytes") > 0
            ? numfmt(t[2], sizeof(t[2]), lab_num(r0->settings, "cookie_bytes"), 4)
            : "",
        lab_num(r0->settings, "cookie_bytes") > 0 ? "-byte cookie" : "",
        lab_str(r0->meta, "commit"), path);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char opt[256];
        option_text(&rows[i], opt, sizeof(opt));
        rc = dynbuf_addf(b, "%zu. %s (run %s)\n", i + 1, opt, rows[i].id);
    }
    rc = rc ? rc
            : dynbuf_addf(
                  b,
                  "\n**Consequences at %s users.**\n\n| option | bandwidth / month, "
                  "down + up | requests / s | connections held | server CPU cores | "
                  "server memory | egress / month | phone radio per day | mean "
                  "latency | updates missed |\n|---|---|---|---|---|---|---|---|---|---|"
                  "\n",
                  t[0]);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        char down[48], up[48], lat[128], cores[48];
        bytes_text(down, sizeof(down), cap(r, "down_gb_month_target"));
        bytes_text(up, sizeof(up), cap(r, "up_gb_month_target"));
        latency_text(r, lat, sizeof(lat));
        if (cap(r, "server_cpu_window_s") < CPU_TOO_LITTLE_S)
            snprintf(cores, sizeof(cores), "too little to scale");
        else
            numfmt(cores, sizeof(cores), cap(r, "server_cores_target"), 2);
        rc = dynbuf_addf(
            b,
            "| %zu | %s + %s | %s | %s | %s | %s GiB | %s USD | %s J, %s of the battery | "
            "%s | %s |\n",
            i + 1, down, up, numfmt(t[1], sizeof(t[1]), cap(r, "requests_per_s_target"), 3),
            numfmt(t[2], sizeof(t[2]), cap(r, "connections_target"), 3), cores,
            numfmt(t[3], sizeof(t[3]), cap(r, "server_memory_gib_target"), 2),
            numfmt(t[4], sizeof(t[4]), cap(r, "egress_usd_month_target"), 3),
            numfmt(t[5], sizeof(t[5]), cap(r, "radio_j_per_user_h") * 24, 3),
            numfmt_pct(t[6], sizeof(t[6]), cap(r, "radio_battery_pct_per_day") / 100, 2),
            lat, numfmt_pct(t[7], sizeof(t[7]), r->missed, 2));
    }
    rc = rc ? rc : dynbuf_adds(b, "\n**Behind proxies.**\n\n");
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        bool used = false;
        for (size_t i = 0; i < n; i++)
            used = used || rows[i].approach == a;
        if (used && a->proxy_text)
            rc = dynbuf_addf(b, "- %s: %s.\n", a->title, a->proxy_text);
    }
    char measured[96];
    measured_text(r0, measured, sizeof(measured));
    return rc ? rc
              : dynbuf_addf(
                    b,
                    "\n**Basis.** Each option is one run, measured at %s and scaled "
                    "linearly (the report's \"At the target population\" gives each "
                    "figure's "
                    "basis and ±, and says when the measured N is too small to scale "
                    "from); "
                    "the phone's radio is %s under the model of [docs/MODELS.md](%s) "
                    "(\"Mobile radio energy\"); every figure is a column of this results "
                    "directory's summary.csv, one row per option.%s\n",
                    measured,
                    strcmp(lab_str(r0->cap, "radio_basis"), "traffic.csv") == 0
                        ? "computed from each user's recorded traffic (traffic.csv)"
                        : "estimated from each run's rates",
                    models_link,
                    r0->quick ? " These runs are the quick version: their figures rest on "
                                "short windows (see each finding's sample size); run the "
                                "full scenario before deciding."
                              : "");
}
