/* failover.h: a user moves to the next server instance when its own stops answering.
 *
 * With several --server URLs (instances on one feed, targets.h), user u starts on target
 * u % M. When a transfer of its fails because the instance refused the connection or cut
 * it (errors_connect, errors_io: what a dead or restarting instance does), the user's
 * next attempt goes to the next target in the list, wrapping around, and `failovers`
 * counts the move. Nothing else changes: the transport keeps its cursor (a long poll's
 * since, an SSE stream's Last-Event-ID, a WebSocket's since, an events poll's since), and
 * the instances share one feed with identical seqs and stamps, so the user resumes where
 * it was, with nothing missed or doubled; its reconnect and any outage count as they
 * would against one server. With one URL nothing ever moves.
 */
#ifndef PUSHPULL_FAILOVER_H
#define PUSHPULL_FAILOVER_H

#include <stdint.h>

#include "counters.h"

struct user;

/* Point u at target t (t < env->ntargets), for its next connection: the raw driver and
 * the WebSocket ask user_server_addr at each connect; libcurl's pinned host name is
 * re-resolved to the target's address here. 0, or -1 when out of memory (u stays where it
 * was). */
int failover_use_target(struct user *u, uint32_t t);
/* A transfer of u failed with counter k: move it to the next target when k is a refused or
 * cut connection and there is another target. Called from user_count_failure only. */
void failover_after_failure(struct user *u, enum counter k);

#endif
