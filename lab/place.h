/* place.h: where a scaled run's processes run (a scenario's "hosts"): this machine, a
 * network namespace of the run's own, or another machine over ssh.
 *
 * The run's namespaces are made by places_open, one per distinct "netns:NAME" of the
 * scenario (common/netns.h: a veth pair, a /30 from a private range checked unused,
 * removed by places_close, and by netns's watcher should the conductor die first), and
 * routed pairwise only where two roles talk (places_route). A program is started at a
 * place by wrapping its argv (place_wrap): `ip netns exec NAME PROGRAM ...` for a
 * namespace, so the program is still started, watched and stopped by pid through
 * common/proc.h like any other; `ssh -o BatchMode=yes USER@HOST -- 'cd DIR && exec ...'`
 * for a host, the one place where words are joined into a line (the remote shell reads
 * it), each word single-quoted. place_addr is the address a program there listens on
 * and is reached at.
 */
#ifndef PUSHPULL_LAB_PLACE_H
#define PUSHPULL_LAB_PLACE_H

#include <stdbool.h>
#include <stddef.h>

#include "netns.h"
#include "runargs.h"
#include "scenario.h"

#define PLACES_MAX_NS 64 /* distinct namespaces one run may have */

/* The run's namespaces. Zero it before places_open. */
struct place_set {
    struct netns ns[PLACES_MAX_NS];                 /* created, in first-named order */
    char label[PLACES_MAX_NS][NETNS_LABEL_MAX + 1]; /* the scenario's NAME of each */
    bool routed[PLACES_MAX_NS][PLACES_MAX_NS];      /* routes added between i and j */
    size_t n;                                       /* entries used */
};

/* Create a namespace for every distinct "netns:NAME" of sc (instances, partitions, redis
 * and balancer). 0, or -1 with one line in err (what was made is removed again). */
int places_open(struct place_set *ps, const struct scenario_scale *sc, char *err,
                size_t errlen);
/* Let the processes at a and b reach each other: a route between their namespaces
 * when both are namespaces and not the same one (once per pair); nothing otherwise
 * (this host reaches every namespace of its own). 0, or -1 with one line in err. */
int places_route(struct place_set *ps, const struct scenario_place *a,
                 const struct scenario_place *b, char *err, size_t errlen);
/* Remove every namespace (killing what still runs inside). Errors are reported in err
 * (the first one); -1 then. */
int places_close(struct place_set *ps, char *err, size_t errlen);
/* The namespace of a netns place, or NULL. */
const struct netns *places_ns(const struct place_set *ps, const struct scenario_place *p);

/* The address a program at p listens on and is reached at: "127.0.0.1", the namespace's
 * inner address, or the ssh host's name (after the @). */
void place_addr(const struct place_set *ps, const struct scenario_place *p, char *out,
                size_t cap);
/* argv as it is started at p, appended to out: argv itself when local; `ip netns exec
 * NAME` before it in a namespace; the ssh command line for a host, with argv[0] taken as
 * a path under remote_dir when it lies under local_dir. 0, or -1 (out->failed). */
int place_wrap(const struct place_set *ps, const struct scenario_place *p,
               const struct runargs *argv, const char *local_dir, const char *remote_dir,
               struct runargs *out);
/* The ssh program: $PUSHPULL_SSH (the tests' stand-in), else /usr/bin/ssh. */
const char *place_ssh_program(void);
/* Is pushpull at remote_dir on p's host built at `commit`? Runs `ssh -o BatchMode=yes
 * USER@HOST git -C DIR rev-parse HEAD` and `test -x DIR/bin/pushpull-server`. 0, or -1
 * with one line in err naming the host and what it found. */
int place_ssh_check(const struct scenario_place *p, const char *remote_dir,
                    const char *commit, char *err, size_t errlen);
/* This checkout's commit (git -C dir rev-parse HEAD) into out. 0, or -1 with one line. */
int place_local_commit(const char *dir, char *out, size_t cap, char *err, size_t errlen);
/* The ssh check's command line (for plan and the tests). */
int place_ssh_check_argv(const struct scenario_place *p, const char *remote_dir,
                         struct runargs *out);

#endif
