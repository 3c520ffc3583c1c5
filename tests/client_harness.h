/* client_harness.h: what the client's integration tests need besides a running server
 * (tests/harness.h starts and stops that): a temporary output directory, a bounded run of
 * the real pushpull-client binary, and its summary.json read back.
 *
 * Every wait is bounded in time; the client is stopped by pid (SIGKILL) if it overruns.
 * Non-static names carry the client_harness_ prefix: this file is archived with every
 * other test helper into libtestsupport.a.
 */
#ifndef PUSHPULL_CLIENT_HARNESS_H
#define PUSHPULL_CLIENT_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* A fresh directory under /tmp; its path in out. 0 or -1. */
int client_harness_tempdir(char *out, size_t outlen);
/* Remove the files in dir (one level) and dir itself. */
void client_harness_rmdir(const char *dir);
/* Run $PUSHPULL_CLIENT (default build/asan/bin/pushpull-client) with the NULL-terminated
 * args, stdout and stderr to dir/stdout.txt and dir/stderr.txt, for at most timeout_s
 * seconds. Returns its exit status, or -1 when it was killed, died of a signal, or could
 * not start. */
int client_harness_run(const char *dir, const char *const *args, int timeout_s);
/* The same, in two halves, for a test that acts while the client runs: start returns the
 * client's pid (or -1); finish waits for it at most timeout_s seconds (SIGKILL after)
 * and returns what client_harness_run would. Every started pid must be finished. */
pid_t client_harness_start(const char *dir, const char *const *args);
int client_harness_finish(pid_t pid, int timeout_s);
/* dir/summary.json parsed (caller deletes), or NULL. */
cJSON *client_harness_summary(const char *dir);
/* The number at a dotted path ("results.requests"); NAN when absent. */
double client_harness_num(const cJSON *root, const char *path);
/* The string at a dotted path, or "" when absent. */
const char *client_harness_str(const cJSON *root, const char *path);
/* The contents of dir/name (caller frees), or NULL. */
char *client_harness_slurp(const char *dir, const char *name);

/* dir/traffic.csv added up (clients/traffic_log.h), the window being 0 <= t_ms < window. */
struct client_harness_traffic {
    double rows;             /* data rows */
    double up, down;         /* every row's bytes */
    double win_up, win_down; /* the window's rows' bytes */
    double win_rows_min;     /* the fewest rows in the window of any user 0..users-1 */
    double win_rows_max;     /* ... the most */
    double bad_user;         /* rows naming a user past users-1 */
};
/* Read dir/traffic.csv: 0, or -1 when it is missing, its header is not
 * "user,t_ms,bytes_up,bytes_down", or a row is not four numbers (line in *bad_line). */
int client_harness_traffic(const char *dir, double window_ms, unsigned users,
                           struct client_harness_traffic *out, size_t *bad_line);

#endif
