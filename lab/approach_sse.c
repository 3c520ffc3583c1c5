/* approach_sse.c: Server-Sent Events on the lab's side: one held GET /events per user,
 * each update an event on it; a comment after heartbeat_s of silence, and the retry delay
 * the server tells clients. Its row of the approach table (approach.h).
 */
#include "approach.h"

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

const struct lab_approach lab_approach_sse = {
    .name = "sse",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = NULL,
    .server_args = server_args,
    .client_args = NULL,
    .drain_s = NULL,
};
