/* loopback.h: a free TCP port on 127.0.0.1, for a program that must be told its port in
 * advance (redis-server takes it from its config; it cannot report a port 0 it bound).
 *
 * The port is found by binding port 0 and reading what the kernel chose, then closing
 * the socket: another program may take it before ours does, so a caller whose program
 * then fails to bind tries again with another. The lab's Redis (lab/broker.c), its front
 * (lab/front.c) and the tests' Redis (tests/redis_harness.c) use it.
 */
#ifndef PUSHPULL_LOOPBACK_H
#define PUSHPULL_LOOPBACK_H

/* A TCP port on 127.0.0.1 nobody listens on at the moment, or 0 when none was found. */
unsigned loopback_free_port(void);

#endif
