/* scale.h: one scaled run (scenario.h's struct scenario_scale: several server instances
 * on one Redis feed, several client partitions, HAProxy, places other than local), done
 * from an empty directory to the one result merge.c and the report read.
 *
 * The order: the namespaces (lab/place.h) and their routes; Redis (lab/broker.h) at its
 * place; the instances, one after another, each awaited ("listening on URL"), instance 1
 * with the scenario's generator and the others with --rate 0; HAProxy (lab/balancer.h)
 * when asked; each instance's /stats (idle); the partitions, all at once, each with
 * --partition I/N, the whole population's --clients and every instance's URL (or the
 * balancer's); each instance's /stats at the window's start; then the watch until every
 * partition has ended (an instance, Redis or HAProxy that ends on its own, or a partition
 * that fails, fails the run at once, naming it); each instance's /stats at the end;
 * HAProxy's CPU and memory; everything stopped; `pushpull-client merge` of the
 * partitions into RUN_DIR; the instances' documents added into RUN_DIR/server_stats*.json;
 * the namespaces removed. A failure or an interrupt stops what runs (clients first) and
 * removes the namespaces too.
 *
 * Files: RUN_DIR/instances/K/{server.out,server.err,server_stats*.json},
 * RUN_DIR/partitions/I/ (each partition's --out, its client.txt and client.err),
 * RUN_DIR/haproxy.{cfg,out,err}, Redis's as lab/broker.h says, and run.json's "scale".
 */
#ifndef PUSHPULL_LAB_SCALE_H
#define PUSHPULL_LAB_SCALE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "runner.h"
#include "scenario.h"

/* Run `index` of s (a scaled run) in results_dir/runs/<id>/. One of enum runner_result,
 * with one line in err on failure, naming the run. */
int scale_run(const struct runner_env *env, const struct scenario *s, size_t index,
              const char *results_dir, char *err, size_t errlen);

/* scale_plan.c. A scaled run's processes for `pushpull-lab plan`, appended to out, one
 * line each after the run's plan line: "  instance K at PLACE: ARGV", "  balancer at
 * PLACE: ARGV", "  partition I/N at PLACE: ARGV", and for each ssh host "  check at
 * PLACE: ARGV". Words the run decides (ports, namespace names, the run's directory) are
 * written as PORT, pp-PID-N-NAME and RUN_DIR; programs as DIR/bin/..., DIR the checkout
 * (remote_dir on ssh hosts). 0, or -1 when out of memory or a line is too long. */
int scale_plan_lines(const struct scenario_run *r, struct dynbuf *out);

/* scale_stats.c. Add dir/instances/K/name (K = 1..n) into dir/name. 0, or -1 with one
 * line in err. */
int scale_stats_sum(const char *dir, unsigned n, const char *name, char *err,
                    size_t errlen);
/* The users an instance's /stats document saw connected (its open connections less the
 * reader's own). */
double scale_stats_users(const cJSON *doc);

#endif
