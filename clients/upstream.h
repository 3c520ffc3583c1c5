/* upstream.h: the messages a user sends to the server (--send-rate, --send-bytes,
 * --send-mode): when each is due, what it says, and knowing it again when it comes back.
 *
 * A chat user who also writes. Each user sends messages at --send-rate per second, as a
 * Poisson process (exponential gaps: people typing independently; the default) or
 * periodically (a fixed gap after a random phase), each --send-bytes bytes of ASCII text.
 * The server publishes each message as the next update's data, so it comes back to its
 * sender on the feed like any other update, and to every other user. How a message
 * travels is the technique's: a WebSocket user sends a text frame on its own connection,
 * the others POST /publish on a keep-alive connection of their own (publish.c).
 *
 * A message says who sent it and when it was due, at its start:
 *     m <run>.<user> <n> <due_ns> xxxx...
 * <run> is 8 hex digits drawn once per client process (so another process's users, or an
 * earlier run's messages replayed, are never taken for one's own), <user> the sender's
 * index, <n> its message number from 1, <due_ns> when the message was due on the
 * sender's monotonic clock, then 'x' up to the size. The round trip runs from <due_ns>
 * to the receipt of the update that carries it: from when the message should have gone
 * out (wrk2's rule against coordinated omission), so a message that waited (its
 * connection busy with the one before, or down) has the wait in its round trip. Only the
 * sender reads the stamp, on the clock that wrote it: no two clocks are compared.
 *
 * A message is sent once: one that waits goes out when its path is free (the previous
 * POST answered, the WebSocket open again); one whose POST fails, or whose frame is lost
 * with its connection, is not sent again (it stays unechoed). Messages come back in the
 * order they were sent (one connection, one message at a time), so an echo numbered at
 * or below the highest seen is a duplicate (a replay after a reconnection). Users that
 * see only some updates (short polling in state mode sees the latest at each poll) see
 * only some of their messages come back.
 *
 * Counts (counters.h), each at one place here: messages sent (when one is composed, to
 * go out at once), echoes (the first receipt of each) and duplicate receipts. Window
 * rule: a message belongs to the window when it was due inside it, as an update does
 * when it was published inside it; its echo may come in the drain. The round trips of
 * the window's messages go into a histogram (microseconds), like the delivery latency.
 */
#ifndef PUSHPULL_UPSTREAM_H
#define PUSHPULL_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters.h"
#include "dynbuf.h"
#include "hist.h"
#include "rng.h"

/* A message's size: room for the longest "m <run>.<user> <n> <due_ns> ", and under the
 * 64 KiB that libcurl sends in one buffer with a POST's head (user.c counts on it). */
#define UPSTREAM_MIN_BYTES 64
#define UPSTREAM_MAX_BYTES 65000

/* What every user's messages share; owned by the run. */
struct upstream_env {
    double rate_hz;   /* messages per second per user; > 0 */
    bool poisson;     /* exponential gaps, else periodic */
    size_t bytes;     /* each message's size */
    char run[9];      /* this process's tag, 8 hex digits */
    int64_t start_ns; /* the schedules start here (monotonic) */
    int64_t w0, w1;   /* the measurement window (monotonic) */
    struct hist *rtt; /* round trips of the window's messages, us (owned by the run) */
};

/* One user's messages. */
struct upstream {
    const struct upstream_env *env; /* shared settings */
    struct counters *ctr;           /* where the message counts go (the sender's user) */
    uint32_t user;                  /* the sender's index */
    struct rng rng;                 /* its gaps */
    int64_t due;                    /* when the next message is due (monotonic) */
    uint64_t n;                     /* messages composed so far */
    uint64_t echoed;                /* the highest message number seen back */
};

/* A tag for this process's messages, 8 hex digits, from its pid and the clock. */
void upstream_run_tag(char out[9]);
/* User `user`'s schedule, its first message due one gap after env->start_ns (a random
 * phase when periodic), gaps drawn from seed. */
void upstream_init(struct upstream *up, const struct upstream_env *env,
                   struct counters *ctr, uint32_t user, uint64_t seed);
/* When the next message is due. */
int64_t upstream_due(const struct upstream *up);
/* Append the next message (exactly env->bytes bytes) to out, count it sent, and move
 * the schedule on. 0, or -1 when out's cap or malloc refuses (nothing counted). */
int upstream_compose(struct upstream *up, struct dynbuf *out);
/* The user received an update whose data begins with head (update.data_head) at now
 * (monotonic): if it is one of this user's messages, count its echo (or a duplicate)
 * and record its round trip. */
void upstream_recognise(struct upstream *up, const char *head, int64_t now);

#endif
