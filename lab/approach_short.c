/* approach_short.c: short polling on the lab's side: GET /poll every interval_ms,
 * asking for the latest state (If-None-Match, a 304 when nothing changed) or for every
 * update after a cursor (?since=N). Its row of the approach table (approach.h).
 */
#include "approach.h"

#include <math.h>

#include "lab.h"
#include "scenario.h"

enum { SHORT_INTERVAL };

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

/* One run for the staleness plot: the interval nearest 1 s, the classic refresh. */
static double plot_rank(const cJSON *results)
{
    double t = lab_num(results, "interval_ms");
    return t > 0 ? fabs(log(t / 1000)) : INFINITY;
}

const struct lab_approach lab_approach_short = {
    .name = "short",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = &poll,
    .server_args = NULL,
    .client_args = client_args,
    .drain_s = drain_s,
    .plot_rank = plot_rank,
};
