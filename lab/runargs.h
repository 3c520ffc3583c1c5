/* runargs.h: a run turned into the flags of each program it starts: the server, the
 * client, the link emulator. The conductor's side of the scenario.
 *
 * A struct runargs is a list of words, built one word at a time and handed to execv as
 * it is: nothing is ever joined into a line and split again, so a word may hold any
 * byte but NUL. The flags common to every approach are built here; an approach's own
 * (the client's --interval, the server's --heartbeat) come from its row of the approach
 * table (lab/approach.h). The defaults of the programs are theirs: a flag is written only
 * when the scenario says something the program needs to hear.
 */
#ifndef PUSHPULL_LAB_RUNARGS_H
#define PUSHPULL_LAB_RUNARGS_H

#include <stddef.h>

#include "dynbuf.h"

#define RUNARGS_MAX 64 /* words in one program's command line */

struct scenario_run;

/* A NULL-terminated list of words, owned. */
struct runargs {
    char *v[RUNARGS_MAX + 1]; /* the words, then NULL (strings owned) */
    size_t n;                 /* how many */
    int failed;               /* a word did not fit or could not be allocated */
};

void runargs_init(struct runargs *a);
/* Append one word (copied). 0, or -1 (and a->failed) when full or out of memory. */
int runargs_add(struct runargs *a, const char *word);
/* Append one word made by printf. */
int runargs_addf(struct runargs *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Append every word of b. */
int runargs_add_all(struct runargs *a, const struct runargs *b);
/* Free every word; a is empty again. */
void runargs_free(struct runargs *a);
/* The words separated by single spaces, for people to read (never to be split). */
int runargs_join(const struct runargs *a, struct dynbuf *out);

/* The server's flags for run r ("--process poisson --rate 5 ..."), without --port and
 * --feed-file (the conductor adds those). 0 or -1. */
int runargs_server(const struct scenario_run *r, struct runargs *out);
/* The client's flags ("--approach short --poll state ... --seed 1"), without --server,
 * --out and --label (the conductor adds those). */
int runargs_client(const struct scenario_run *r, struct runargs *out);
/* The link emulator's flags ("--delay 100ms --rate 1000kbit ..."), without --listen,
 * --upstream and --stats; nothing at all when r->network.link is false. */
int runargs_link(const struct scenario_run *r, struct runargs *out);
/* The restart in words, for people ("at=7 down=1 feed=memory": at counted from the
 * client's start, that is warmup_s + restart.at_s); nothing without a restart. */
int runargs_restart_words(const struct scenario_run *r, struct dynbuf *out);
/* Run r in one line for people and tests: RUN_ID, SERVER_ARGS, CLIENT_ARGS, LINK_ARGS and
 * RESTART_WORDS separated by tabs, every field always there (the last two may be empty).
 * With the feed through Redis, SERVER_ARGS ends "--redis 127.0.0.1:PORT": the port is
 * the run's Redis's, chosen when it starts. pushpull-lab plan prints it. Returns
 * dynbuf_add's result. */
int runargs_plan_line(const struct scenario_run *r, struct dynbuf *out);
/* Estimated wall time of a run in seconds: warmup + duration + the client's drain after
 * the window (the approach's) + about 1 s to start and stop the server, + down_s and
 * about 1 s for the second start when the server restarts. */
double runargs_estimate_s(const struct scenario_run *r);

#endif
