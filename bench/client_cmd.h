/* client_cmd.h: `pushpull-bench client`, the reference client on its own.
 *
 * The bench starts it as the load for every push workload, so client and server are
 * separate processes with separate open-file limits, and its CPU is its own. Anyone can
 * run it against a server by hand too, to hold the lab's instrumented client (or any
 * other) against it at the same load. Its protocol with whoever started it: the line
 * "ready K of N" on stdout once all N connections are ready (or the ready timeout
 * passed), which also starts the measurement window; "deliveries N" (the updates received
 * so far) at each SIGUSR1, so the bench can wait until everything published has arrived;
 * then, at SIGINT/SIGTERM or after --duration, the results: one JSON line (--json) or a
 * fixed human summary.
 */
#ifndef PUSHPULL_BENCH_CLIENT_CMD_H
#define PUSHPULL_BENCH_CLIENT_CMD_H

/* Run `pushpull-bench client` with argv[0] == "client". Returns the exit status. */
int client_cmd_main(int argc, char **argv);

#endif
