/* report_protocols.c: the report's section on protocols: how much of each approach's cost
 * is left under HTTP/2 and TLS, and whether the ranking of the approaches changes.
 *
 * It appears when some run went through the front (scenario "protocol" other than
 * http1). Every byte figure here is the wire's, the kernel's count (the client's
 * total_bytes: its decoded split under TLS and HTTP/2 is not what crossed), so the rows
 * compare what each protocol really costs. A run is held against the http1 run that
 * differs from it only in its protocol (the same run id with protocol=http1), when the
 * scenario has one. Connection setup (a TLS handshake both ways, measured at each
 * connection's first request) and the front's own CPU are columns of their own: the
 * handshake matters most where connections are many or short (reconnect bursts, polling
 * without keep-alive), the front's cost is what a deployment pays for TLS and HTTP/2 at
 * the edge. HPACK's saving is a column too, in the measure h2load reports (the
 * client derives it: clients/wire.h), with a line per HTTP/2 run giving both ways: the
 * request head and the answer's fields, decoded and as they crossed. The models
 * (docs/MODELS.md, "HTTP/2 and TLS") are set beside: HPACK's repeated header block, TLS's
 * bytes per record.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "approach.h"
#include "lab.h"
#include "numfmt.h"
#include "report.h"
#include "report_protocols.h"

/* The run's protocol; runs from before the field are plain HTTP/1.1. */
static const char *protocol_of(const struct lab_row *r)
{
    const char *p = lab_str(r->settings, "protocol");
    return p[0] ? p : "http1";
}

/* The run id with its "-protocol=WORD" part left out: runs that share it differ only in
 * their protocol. */
static void id_without_protocol(const struct lab_row *r, char *out, size_t cap)
{
    char part[64];
    snprintf(out, cap, "%s", r->id);
    snprintf(part, sizeof(part), "-protocol=%s",
             protocol_of(r)); /* its word may hold '-' */
    char *p = strstr(out, part);
    if (p)
        memmove(p, p + strlen(part), strlen(p + strlen(part)) + 1);
}

/* The http1 run that r is held against, or NULL. */
static const struct lab_row *http1_twin(const struct lab_row *rows, size_t n,
                                        const struct lab_row *r)
{
    char key[256], other[256];
    id_without_protocol(r, key, sizeof(key));
    for (size_t i = 0; i < n; i++) {
        if (strcmp(protocol_of(&rows[i]), "http1") != 0)
            continue;
        id_without_protocol(&rows[i], other, sizeof(other));
        if (strcmp(key, other) == 0)
            return &rows[i];
    }
    return NULL;
}

/* Wire bytes of the window per request (NAN without requests: a stream's). */
static double per_request(const struct lab_row *r)
{
    double req = lab_num(r->res, "requests");
    return req > 0 ? lab_num(r->res, "total_bytes") / req : NAN;
}

/* HPACK's saving on the answers' header fields over the whole run, in percent, h2load's
 * measure (clients/wire.h); -1 where the client did not derive it (not HTTP/2, or
 * streams among the answers). */
static double hpack_saved(const struct lab_row *r)
{
    double v = lab_num(r->res, "hpack_resp_saving_pct_run");
    return v >= 0 ? v : -1;
}

/* What HPACK did, both ways, for each HTTP/2 run whose answers the client could
 * measure: the request head (HTTP/1.1's size, decoded) against the bytes sent per
 * request (its HEADERS frame and what else went up: the window's), and the answers'
 * fields (h2load's measure) against their HEADERS blocks, over the whole run. */
static int hpack_lines(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        double req = lab_num(r->res, "requests");
        double heads = lab_num(r->res, "hpack_resp_heads_run");
        if (hpack_saved(r) < 0 || !(req > 0) || !(heads > 0))
            continue;
        rc = dynbuf_addf(
            b,
            "- HPACK, %s: a request head of %.0f B (decoded) crossed as %.1f B sent per "
            "request; an answer's fields of %.1f B (name + value) as a %.1f B block, "
            "%.1f%% saved over the run's %.0f answers.\n",
            r->id, lab_num(r->res, "req_header_bytes") / req,
            lab_num(r->res, "wire_bytes_sent") / req,
            lab_num(r->res, "hpack_resp_field_bytes_run") / heads,
            lab_num(r->res, "hpack_resp_block_bytes_run") / heads, hpack_saved(r), heads);
    }
    return rc;
}

static bool any_front(const struct lab_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(protocol_of(&rows[i]), "http1") != 0)
            return true;
    return false;
}

/* The order of approaches (by their first run of protocol p), as one string of titles,
 * to tell whether a protocol changes the ranking. */
static void ranking_titles(const struct lab_row *rows, size_t n, const char *p, char *out,
                           size_t cap)
{
    double best[LAB_MAX_APPROACHES];
    const char *title[LAB_MAX_APPROACHES];
    size_t k = 0;
    for (size_t a = 0; a < lab_approach_count() && k < LAB_MAX_APPROACHES; a++) {
        double v = NAN;
        for (size_t i = 0; i < n; i++)
            if (rows[i].approach == lab_approach_at(a) &&
                strcmp(protocol_of(&rows[i]), p) == 0 && isnan(v))
                v = report_bytes_per_update(&rows[i]);
        if (!(v > 0))
            continue;
        best[k] = v;
        title[k++] = lab_approach_at(a)->title;
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && best[j] < best[j - 1]; j--) {
            double t = best[j];
            best[j] = best[j - 1];
            best[j - 1] = t;
            const char *s = title[j];
            title[j] = title[j - 1];
            title[j - 1] = s;
        }
    out[0] = '\0';
    for (size_t i = 0; i < k; i++)
        report_appendf(out, cap, "%s%s", i ? " < " : "", title[i]);
}

static int table(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = dynbuf_adds(
        b,
        "\n| run | protocol | wire B / request | wire B / update | bytes / client / min "
        "| vs http1 | setup B / connection | TLS handshake ms | HPACK saved (answers) "
        "| latency mean ms | front CPU s (run) |\n|---|---|---|---|---|---|---|---|---|---|"
        "---|\n");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        const struct lab_row *twin = http1_twin(rows, n, r);
        double setups = lab_num(r->res, "conn_setups_run");
        double front =
            lab_num(cJSON_GetObjectItemCaseSensitive(r->record, "front"), "cpu_s");
        char v[8][NUMFMT_LEN], vs[48] = "", hp[32] = "";
        double saved = hpack_saved(r);
        if (saved >= 0)
            snprintf(hp, sizeof(hp), "%.1f%%", saved);
        if (twin && twin != r && twin->bytes_min > 0)
            snprintf(vs, sizeof(vs), "%.2f×", r->bytes_min / twin->bytes_min);
        rc = dynbuf_addf(
            b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r->id,
            protocol_of(r), numfmt(v[0], sizeof(v[0]), per_request(r), 4),
            numfmt(v[1], sizeof(v[1]), report_bytes_per_update(r), 4),
            numfmt(v[2], sizeof(v[2]), r->bytes_min, 4), vs[0] ? vs : "",
            numfmt(v[3], sizeof(v[3]),
                   setups > 0 ? lab_num(r->res, "conn_setup_bytes_run") / setups : NAN, 4),
            numfmt(v[4], sizeof(v[4]),
                   setups > 0 ? lab_num(r->res, "tls_handshake_us_run") / setups / 1000.0
                              : NAN,
                   3),
            hp, numfmt(v[5], sizeof(v[5]), r->lat_mean, 3),
            numfmt(v[6], sizeof(v[6]), front >= 0 ? front : NAN, 3));
    }
    return rc;
}

/* The short-polling answer: what a poll costs under each protocol, beside plain
 * HTTP/1.1's. */
static int polling_left(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const struct lab_row *r = &rows[i];
        const struct lab_row *twin = http1_twin(rows, n, r);
        if (!r->approach->baseline || !twin || twin == r || !(per_request(twin) > 0) ||
            !(per_request(r) > 0))
            continue;
        rc = dynbuf_addf(b,
                         "- %s: a poll costs %.0f B on the wire under %s against %.0f B "
                         "under plain HTTP/1.1 (%.0f%% of it is left).\n",
                         r->id, per_request(r), protocol_of(r), per_request(twin),
                         100.0 * per_request(r) / per_request(twin));
    }
    return rc;
}

int report_protocols(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    if (!any_front(rows, n))
        return 0;
    int rc = dynbuf_adds(
        b,
        "\n## Protocols: how much of each approach's cost is left under HTTP/2 and TLS\n\n"
        "Every byte here is the wire's (the kernel's count: under TLS and HTTP/2 the "
        "client's own split of headers and bodies is decoded sizes, not what crossed). "
        "http1 goes straight to the server; every other protocol goes through the same "
        "front (nghttpx), which speaks HTTP/1.1 to the server, so http1-front is the "
        "front's own cost and the fair baseline for the others. Setup: the bytes both "
        "ways before a connection's first request (a TLS handshake; 0 for plain "
        "connections), paid again on every reconnect. HPACK saved: of the answers' header "
        "fields (name + value, :status included) over the whole run, the share their "
        "HEADERS frames did not carry, the measure h2load reports as \"space savings\" "
        "(tests/test_h2load.c holds the two together). Models: docs/MODELS.md, \"HTTP/2 "
        "and TLS\".\n");
    rc = rc ? rc : table(b, rows, n);
    rc = rc ? rc : dynbuf_adds(b, "\n");
    rc = rc ? rc : polling_left(b, rows, n);
    rc = rc ? rc : hpack_lines(b, rows, n);
    static const char *const all[] = {"http1", "http1-front", "https1", "h2c", "h2"};
    char base[512] = "", order[512];
    ranking_titles(rows, n, "http1", base, sizeof(base));
    for (size_t p = 0; rc == 0 && p < sizeof(all) / sizeof(all[0]); p++) {
        ranking_titles(rows, n, all[p], order, sizeof(order));
        if (!order[0])
            continue;
        rc = dynbuf_addf(b, "- Cheapest per update under %s: %s%s.\n", all[p], order,
                         !base[0] || p == 0         ? ""
                         : strcmp(order, base) == 0 ? " (the same order as plain HTTP/1.1)"
                                                    : " (the order changes from plain "
                                                      "HTTP/1.1's)");
    }
    return rc;
}
