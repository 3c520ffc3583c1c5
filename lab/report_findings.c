/* report_findings.c: the report's "Findings": each approach set against the baseline
 * (short polling at the interval nearest 1 s) in one sentence, each approach's own
 * findings (its row of the table writes them), the connections each approach held, and
 * the byte accounting of every run (report.h's struct lab_row is what they read).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "approach.h"
#include "lab.h"
#include "numfmt.h"
#include "report.h"

/* The baseline's run that others are held against: of the runs whose approach is the
 * baseline, the one its row ranks best (short polling: the interval nearest 1 s). */
static const struct lab_row *baseline_row(const struct lab_row *rows, size_t n)
{
    const struct lab_row *best = NULL;
    double best_rank = INFINITY;
    for (size_t i = 0; i < n; i++) {
        const struct lab_approach *a = rows[i].approach;
        if (!a->baseline)
            continue;
        double rank = a->plot_rank ? a->plot_rank(rows[i].settings) : 0;
        if (!best || rank < best_rank) {
            best = &rows[i];
            best_rank = rank;
        }
    }
    return best;
}

/* "- SSE delivered ... using P% of the bytes of short polling every 1000 ms ..." for the
 * first run of each compared approach, when both rest on enough updates. */
static int comparisons(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    const struct lab_row *base = baseline_row(rows, n);
    if (!base || !(base->bytes_min > 0))
        return 0;
    char base_name[128];
    base->approach->describe(base, base_name, sizeof(base_name));
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        const struct lab_row *r = NULL;
        for (size_t i = 0; a->compared && !r && i < n; i++)
            if (rows[i].approach == a)
                r = &rows[i];
        if (!r)
            continue;
        char name[128], what[300], path[96];
        a->describe(r, name, sizeof(name));
        report_path_text(r, path, sizeof(path));
        const struct lab_row *few = report_few_samples(r) ? r : base;
        if (report_few_samples(few)) {
            snprintf(what, sizeof(what), "%s against %s", name, base_name);
            rc = report_too_few(b, few, what);
            continue;
        }
        char v[10][NUMFMT_LEN];
        rc = dynbuf_addf(
            b,
            "- %s delivered %s of %s updates %s (p99 %s ms, staleness %s ms) using %s%% of "
            "the bytes of %s, which delivered %s (mean latency %s ms, staleness %s ms): %s "
            "bytes per update delivered against %s.\n",
            name, numfmt(v[0], sizeof(v[0]), r->received, 9),
            numfmt(v[1], sizeof(v[1]), r->published, 9), path,
            numfmt(v[2], sizeof(v[2]), r->lat_p99, 3),
            numfmt(v[3], sizeof(v[3]), r->stale, 3),
            numfmt(v[4], sizeof(v[4]), 100 * r->bytes_min / base->bytes_min, 3), base_name,
            numfmt(v[5], sizeof(v[5]), base->received, 9),
            numfmt(v[6], sizeof(v[6]), base->lat_mean, 3),
            numfmt(v[7], sizeof(v[7]), base->stale, 3),
            numfmt(v[8], sizeof(v[8]), report_bytes_per_update(r), 4),
            numfmt(v[9], sizeof(v[9]), report_bytes_per_update(base), 4));
    }
    return rc;
}

/* The connections each approach held per user at the window's start (capacity.h), in
 * one sentence: with keep-alive, polling holds its connection between polls too. */
static int held_connections(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    char list[1024] = "";
    double lo = INFINITY, hi = -INFINITY;
    size_t named = 0;
    for (size_t k = 0; k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        double alo = INFINITY, ahi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double c = lab_num(rows[i].cap, "connections_per_user");
            if (rows[i].approach != a || isnan(c))
                continue;
            alo = fmin(alo, c);
            ahi = fmax(ahi, c);
        }
        if (isinf(alo))
            continue;
        lo = fmin(lo, alo);
        hi = fmax(hi, ahi);
        report_appendf(list, sizeof(list), "%s%s %.2f", named ? ", " : "", a->title, alo);
        if (ahi - alo >= 0.005)
            report_appendf(list, sizeof(list), " to %.2f", ahi);
        named++;
    }
    if (named == 0)
        return 0;
    return dynbuf_addf(
        b, "- Connections held per user at the window's start: %s. %s\n", list,
        hi - lo < 0.1
            ? "Polling with keep-alive holds its connection between polls too, so push "
              "held no more connections than polling here; a server or proxy that closes "
              "idle keep-alive connections sooner than the poll interval changes that."
            : "Push holds a connection per user for as long as the user stays; polling "
              "holds one only while its keep-alive lasts.");
}

/* Findings: the comparisons, each approach's own sentences, the connections held, the
 * byte accounting. */
int report_findings(struct dynbuf *b, const struct lab_row *rows, size_t n)
{
    int rc = dynbuf_adds(b, "\n## Findings\n\n");
    rc = rc ? rc : comparisons(b, rows, n);
    for (size_t k = 0; rc == 0 && k < lab_approach_count(); k++) {
        const struct lab_approach *a = lab_approach_at(k);
        if (a->findings)
            rc = a->findings(b, rows, n);
    }
    rc = rc ? rc : held_connections(b, rows, n);
    size_t ok = 0, unacc = 0;
    for (size_t i = 0; i < n; i++) {
        ok += strcmp(lab_str(rows[i].res, "bytes_check"), "ok") == 0;
        unacc += lab_num(rows[i].srv, "unaccounted_bytes") != 0;
    }
    return rc ? rc
              : dynbuf_addf(
                    b,
                    "- Byte accounting: in %zu of %zu runs the client's counts equal "
                    "the kernel's (TCP_INFO, both directions)%s.\n",
                    ok, n,
                    unacc ? "; the server left bytes unexplained in some runs"
                          : ", and the server explained every byte it sent");
}
