/* report_upstream.c: the report's section on the messages users send up ("messages" in
 * the scenario; the client's --send-rate), when any run's users sent some: what one
 * message cost on the wire, split into what framed it (HTTP heads both ways for a POST
 * /publish; a frame header and a masking key for a WebSocket frame), the message itself
 * and the POST's answer, and its round trip, from when it was due to when its sender saw
 * it come back on the feed.
 *
 * It names no approach: each run's figures are the client's columns (msg_header_bytes,
 * msg_payload_bytes, msg_reply_bytes, msgs_sent, msg_rtt_*), and the models beside them
 * are its row's (a message's wire bytes where the approach alone decides them, as a
 * WebSocket frame's; a POST's depend on the header profile, so they are only measured)
 * and models.c's round trip (one transit up, then an update's mean latency down).
 */
#include "report.h"

#include <math.h>
#include <stdio.h>

#include "approach.h"
#include "lab.h"
#include "numfmt.h"

/* Per message of r's window: what framed it, the message, the answer's body, all of it;
 * NAN when the run sent none. */
struct msg_cost {
    double sent, header, payload, reply, wire;
};

static struct msg_cost msg_cost_of(const struct lab_row *r)
{
    struct msg_cost m = {lab_num(r->res, "msgs_sent"), NAN, NAN, NAN, NAN};
    if (!(m.sent > 0))
        return m;
    m.header = lab_num(r->res, "msg_header_bytes") / m.sent;
    m.payload = lab_num(r->res, "msg_payload_bytes") / m.sent;
    m.reply = lab_num(r->res, "msg_reply_bytes") / m.sent;
    m.wire = m.header + m.payload + m.reply;
    return m;
}

/* "measured (model, deviation)", or the measured value alone when there is no model;
 * a model below what the column can tell from 0 (a round trip on loopback) is "≈0". */
static int with_model(struct dynbuf *b, double measured, double model, int sig,
                      double near_zero)
{
    char v[2][NUMFMT_LEN];
    numfmt(v[0], sizeof(v[0]), measured, sig);
    if (isnan(model))
        return dynbuf_addf(b, " %s |", v[0]);
    if (model < near_zero)
        return dynbuf_addf(b, " %s (≈0) |", v[0]);
    double dev = model_deviation_pct(measured, model);
    if (isnan(dev))
        return dynbuf_addf(b, " %s (%s) |", v[0], numfmt(v[1], sizeof(v[1]), model, sig));
    return dynbuf_addf(b, " %s (%s, %+.0f%%) |", v[0],
                       numfmt(v[1], sizeof(v[1]), model, sig), dev);
}

static int table(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = dynbuf_adds(
        b, "\n| run | messages sent | came back | B per message on the wire (model) | "
           "framing B (heads, or frame header and mask) | message B | answer B | round "
           "trip mean ms (model) | p99 ms |\n|---|---|---|---|---|---|---|---|---|\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        struct msg_cost m = msg_cost_of(r);
        if (!(m.sent > 0))
            continue;
        char v[6][NUMFMT_LEN];
        rc = dynbuf_addf(b, "| %s | %s | %s |", r->id,
                         numfmt_int(v[0], sizeof(v[0]), m.sent),
                         numfmt_int(v[1], sizeof(v[1]), lab_num(r->res, "msgs_echoed")));
        rc = rc ? rc : with_model(b, m.wire, r->m.msg_wire_bytes, 4, 0);
        rc = rc ? rc
                : dynbuf_addf(b, " %s | %s | %s |", numfmt(v[2], sizeof(v[2]), m.header, 4),
                              numfmt(v[3], sizeof(v[3]), m.payload, 4),
                              numfmt(v[4], sizeof(v[4]), m.reply, 3));
        rc = rc ? rc
                : with_model(b, lab_num(r->res, "msg_rtt_mean_ms"), r->m.msg_rtt_mean_ms, 3,
                             1);
        rc = rc ? rc
                : dynbuf_addf(
                      b, " %s |\n",
                      numfmt(v[5], sizeof(v[5]), lab_num(r->res, "msg_rtt_p99_ms"), 3));
    }
    return rc;
}

/* One sentence: each approach's first run with messages, its bytes per message and what
 * framed them, and how far apart the dearest and the cheapest are. */
static int comparison(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    char list[1024] = "";
    double lo = INFINITY, hi = 0, lo_frame = NAN, hi_frame = NAN;
    const char *lo_name = "", *hi_name = "";
    size_t named = 0;
    for (size_t k = 0; k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        for (size_t i = 0; i < n; i++) {
            struct msg_cost m = msg_cost_of(&rows[i]);
            if (rows[i].approach != a || !(m.sent > 0))
                continue;
            char v[2][NUMFMT_LEN];
            report_appendf(list, sizeof(list), "%s%s %s B (%s B of it framing)",
                           named ? "; " : "", a->title,
                           numfmt(v[0], sizeof(v[0]), m.wire, 4),
                           numfmt(v[1], sizeof(v[1]), m.header, 4));
            named++;
            if (m.wire < lo) {
                lo = m.wire;
                lo_frame = m.header;
                lo_name = a->title;
            }
            if (m.wire > hi) {
                hi = m.wire;
                hi_frame = m.header;
                hi_name = a->title;
            }
            break;
        }
    }
    if (named < 2 || !(lo > 0))
        return named ? dynbuf_addf(b, "\nOne message on the wire: %s.\n", list) : 0;
    char v[3][NUMFMT_LEN];
    return dynbuf_addf(
        b,
        "\nOne message on the wire: %s. %s cost %s times as much as %s, and the "
        "difference is what frames the message, %s B against %s B, not the message.\n",
        list, hi_name, numfmt(v[0], sizeof(v[0]), hi / lo, 3), lo_name,
        numfmt(v[1], sizeof(v[1]), hi_frame, 4), numfmt(v[2], sizeof(v[2]), lo_frame, 4));
}

int report_upstream(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    const struct lab_row *first = NULL;
    for (size_t i = 0; i < n && !first; i++)
        if (lab_num(rows[i].res, "msgs_sent") > 0)
            first = &rows[i];
    if (!first)
        return 0;
    char v[2][NUMFMT_LEN];
    int rc = dynbuf_addf(
        b,
        "\n## Messages up\n\nEvery user also wrote: %s-byte messages, %s a second each "
        "(%s). A WebSocket user sends each as a text frame on its own connection; the "
        "others send a POST /publish on a second keep-alive connection, as a page's "
        "fetch() does while its feed's connection is busy. Bytes per message are the "
        "window's; the round trip runs from when a message was due to when its sender saw "
        "it come back on the feed (a message that waited for a connection has the wait "
        "in it), and its model is one transit up plus an update's mean latency down.\n",
        numfmt(v[0], sizeof(v[0]), lab_num(first->settings, "send_bytes"), 6),
        numfmt(v[1], sizeof(v[1]), lab_num(first->settings, "send_rate_hz"), 4),
        lab_str(first->settings, "send_mode"));
    rc = rc ? rc : table(b, rows, n);
    return rc ? rc : comparison(b, rows, n);
}
