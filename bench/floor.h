/* floor.h: `pushpull-bench floor`, the machine's ceiling for polling.
 *
 * The least an HTTP/1.1 server can do to answer the bench's poll workloads: read a
 * request head, compare If-None-Match with the current ETag, and write a 200 with the
 * last published body or a 304, with the lab server's header lines (Date, Content-Type,
 * Cache-Control, ETag, Content-Length). No library, one epoll loop per thread on one
 * shared listening socket, no logging, no counters. Whatever any real server does on top
 * costs more, so under the same wrk on the same cores its requests/s is the most a
 * server can reach there, and a goal above floor/nchan cannot be met by anyone.
 *
 * GET /poll answers the update; POST /pub (Content-Length body) makes its body the next
 * update. It prints "listening on http://127.0.0.1:PORT" once it accepts, and ends at
 * SIGINT or SIGTERM.
 */
#ifndef PUSHPULL_BENCH_FLOOR_H
#define PUSHPULL_BENCH_FLOOR_H

/* Run `pushpull-bench floor` with argv[0] == "floor". Returns the exit status. */
int floor_main(int argc, char **argv);

#endif
