/* approach_long.c: long polling on the lab's side: GET /longpoll?since=N in a loop, each
 * request held by the server until an update exists or timeout_s passes. Its row of the
 * approach table (approach.h).
 */
#include "approach.h"

#include "scenario.h"

enum { LONG_TIMEOUT };

static const struct field_spec settings[] = {
    [LONG_TIMEOUT] = {"timeout_s", 1, 120, false, false, true, true, false, 30,
                      "a whole number of seconds from 1 to 120"},
};

/* The server holds a poll this long, and the client expects it to. */
static int server_args(const struct scenario_run *r, struct runargs *out)
{
    runargs_add(out, "--longpoll-timeout");
    return runargs_addf(out, "%.0fs", r->set[LONG_TIMEOUT]);
}

const struct lab_approach lab_approach_long = {
    .name = "long",
    .settings = settings,
    .n_settings = sizeof(settings) / sizeof(settings[0]),
    .choice = NULL,
    .server_args = server_args,
    .client_args = server_args,
    .drain_s = NULL,
};
