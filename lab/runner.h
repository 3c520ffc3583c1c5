/* runner.h: one run of a scenario, done: its programs started, watched, the server
 * crashed and restarted when the scenario says so, its /stats saved, everything stopped,
 * and run.json written at every step.
 *
 * The order is the one a run needs: the server (readiness: its first line, "listening on
 * URL"), the link emulator in front of it when the scenario has a network (the same), the
 * client against whichever is in front. While the client runs, the runner looks at every
 * program every few milliseconds: a server or link that ends on its own fails the run at
 * once, saying which, when and how it ended (its wait status); the planned crash does
 * not. When the client is done: the link is stopped (it writes its counts on SIGTERM),
 * the server's /stats is read and saved, the server is stopped; each must exit 0. A failed
 * or interrupted run stops whatever it started (SIGTERM, then SIGKILL after a bound) and
 * reaps it before returning.
 */
#ifndef PUSHPULL_LAB_RUNNER_H
#define PUSHPULL_LAB_RUNNER_H

#include <signal.h>
#include <stddef.h>

#include "scenario.h"

struct runner_env {
    const char *bin_dir;               /* where pushpull-server, -client, -link are */
    const volatile sig_atomic_t *stop; /* non-zero: stop now (SIGINT, SIGTERM) */
};

enum runner_result {
    RUNNER_OK = 0,          /* every program did its part and exited 0 */
    RUNNER_FAILED = -1,     /* err says what went wrong */
    RUNNER_INTERRUPTED = -2 /* *env->stop was set; everything is stopped */
};

/* Make run `index` of s in results_dir/runs/<id>/ (a scaled run, scenario.h's struct
 * scenario_scale, is lab/scale.h's scale_run instead) (created fresh: whatever an earlier
 * run with this id left is removed first). One of enum runner_result; on failure one line
 * in err, naming the run. */
int runner_run(const struct runner_env *env, const struct scenario *s, size_t index,
               const char *results_dir, char *err, size_t errlen);

#endif
