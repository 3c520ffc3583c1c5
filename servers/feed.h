/* feed.h: the changing data every transport serves, and the connections waiting on it.
 *
 * A feed is a numbered sequence of updates (seq 1, 2, 3, ... without gaps), each stamped
 * with the wall-clock time of its publication and rendered once as JSON. The newest
 * `capacity` updates stay in a ring so a cursor ("since", Last-Event-ID) can be served.
 * Held long polls and idle SSE streams park a feed_waiter here; a publish wakes every
 * parked waiter, so the cost of a publish is O(waiters) and nothing polls the feed.
 *
 * The feed knows nothing of HTTP: a waiter carries a wake callback (the server resumes
 * the suspended connection there) and optionally a socket to watch for a vanished peer.
 * One mutex guards the ring and the waiter list; functions named *_locked expect the
 * caller to hold it (feed_lock / feed_unlock), all others take it themselves. A waiter
 * is taken off the list under the lock and woken after it is released: from then on its
 * owner alone may touch it.
 *
 * A feed may also be a cache of a feed kept elsewhere (--redis, redis_feed.h): publishing
 * then goes through a publisher the owner sets (feed_set_publisher), and the updates come
 * back, from whichever process published them, through feed_insert. The ring, the
 * cursors and the waiters work the same either way.
 */
#ifndef PUSHPULL_FEED_H
#define PUSHPULL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One published update. Owned by the feed; valid while the caller holds the lock. */
struct feed_update {
    uint64_t seq;    /* 1, 2, 3, ... */
    int64_t ts_ns;   /* CLOCK_REALTIME at publish */
    char *json;      /* {"seq":N,"ts_ns":T,"data":"..."}, NUL-terminated */
    size_t json_len; /* bytes in json */
};

/* Why a parked waiter was woken. */
enum feed_wake {
    FEED_WAKE_NONE = 0, /* not woken (yet) */
    FEED_WAKE_NEWS,     /* an update was published */
    FEED_WAKE_DEADLINE, /* its deadline passed (long-poll timeout, heartbeat due) */
    FEED_WAKE_GONE,     /* the peer closed its side of the socket */
    FEED_WAKE_SHUTDOWN, /* the feed is closing */
    FEED_WAKE_DROP      /* feed_drop: close the connection abruptly */
};

/* A parked connection. Embedded in the caller's per-request state, which owns it. */
struct feed_waiter {
    void (*wake)(struct feed_waiter *w); /* called once per park, without the feed lock,
                                            by whichever thread woke it */
    int fd;                              /* socket to watch for a vanished peer, or -1 */
    int64_t deadline_ns;                 /* CLOCK_MONOTONIC time to wake regardless */
    enum feed_wake why;                  /* set before wake() is called */
    bool parked;                         /* on the feed's list */
    struct feed_waiter *prev, *next;     /* list links, owned by the feed */
    const void *parked_by;               /* the thread that parked it (a mark of the
                                            feed's own), set by feed_park_locked */
};

/* Where a cursor stands against the ring: which updates follow it. */
struct feed_range {
    uint64_t first; /* first seq to deliver (valid when count > 0) */
    uint64_t count; /* how many updates to deliver, oldest first */
    bool reset;     /* updates after the cursor were lost (left the ring), or the cursor
                       is ahead of the newest update: the delivery restarts at `first` */
};

struct feed;

/* A feed holding the newest `capacity` updates (at least 1). NULL when out of memory.
 * The caller frees it with feed_free after every waiter has left. */
struct feed *feed_new(size_t capacity);
void feed_free(struct feed *f);

void feed_lock(struct feed *f);
void feed_unlock(struct feed *f);

/* Publish `len` bytes of UTF-8 text as the next update, stamped now, and wake every
 * parked waiter with FEED_WAKE_NEWS. Returns the new seq, or 0 when out of memory or
 * closing. The text is copied. With a publisher set, the publisher does the work. */
uint64_t feed_publish(struct feed *f, const char *data, size_t len);
/* feed_publish, and on failure (0) a message in err saying why (the publisher's, or
 * "the feed is shutting down"). Every publish of the server (the generator, POST
 * /publish) comes through here: this is the feed's one publish path. */
uint64_t feed_publish_err(struct feed *f, const char *data, size_t len, char *err,
                          size_t errlen);

/* A publish path other than the ring's own: it publishes `len` bytes of data somewhere
 * shared and returns the seq the update got there, or 0 with a message in err. The update
 * reaches this ring the way every other process's updates do (feed_insert). */
typedef uint64_t (*feed_publisher)(void *ctx, const char *data, size_t len, char *err,
                                   size_t errlen);
/* Send every publish to fn(ctx, ...) from now on. Set once, before anything publishes
 * (the server does it before its threads start); ctx stays the caller's. */
void feed_set_publisher(struct feed *f, feed_publisher fn, void *ctx);

/* An update as its publisher stored it: the fields the JSON is rendered from. */
struct feed_entry {
    uint64_t seq;     /* its seq */
    int64_t ts_ns;    /* CLOCK_REALTIME at its publish, by the publishing process */
    const char *data; /* the payload, UTF-8 (not NUL-terminated) */
    size_t len;       /* bytes of data */
};
/* Put updates published elsewhere into the ring, oldest first, rendered exactly as
 * feed_publish renders its own (so the text of a seq is the same in every process), and
 * wake every parked waiter once. An entry whose seq is not past the newest held is
 * skipped (already there). One past newest + 1 leaves a gap: the updates between are
 * lost to this ring, and a cursor in the gap gets a reset. Returns how many were put in,
 * or -1 when out of memory or closing (those before stay in). The data is copied. */
long feed_insert(struct feed *f, const struct feed_entry *e, size_t n);
/* Forget every update (the shared feed started over: its seqs begin again at 1) and
 * wake every parked waiter, whose cursor is now ahead of the newest: it gets a reset. */
void feed_reset(struct feed *f);
/* The reset generation: how many times feed_reset was called. A seq names one update
 * only together with it (after a reset, seq 1 is another update). */
uint64_t feed_reset_generation_locked(const struct feed *f);

/* Put back an update read from a durable log (feed_log.c), in order: seq must be the
 * newest + 1. The JSON text is copied. 0, or -1 (out of order, out of memory). */
int feed_restore(struct feed *f, uint64_t seq, int64_t ts_ns, const char *json, size_t len);
/* From now on append every published update's JSON, one line each, to fd (the caller
 * keeps the fd open until the feed is freed). */
void feed_attach_log(struct feed *f, int fd);

/* The newest and oldest seq in the ring (0 and 0 before the first publish). */
uint64_t feed_newest_locked(const struct feed *f);
uint64_t feed_oldest_locked(const struct feed *f);
/* Updates published through feed_publish since the feed was created: those restored
 * from a durable log or inserted from elsewhere are not counted, so the figures of a
 * server and of its restarted successor (or of several instances on one feed) add up. */
uint64_t feed_published(struct feed *f);
/* The newest seq (feed_newest_locked, taking the lock). */
uint64_t feed_newest(struct feed *f);
/* The update with this seq, or NULL when it is not in the ring. */
const struct feed_update *feed_get_locked(const struct feed *f, uint64_t seq);
/* What follows cursor `since`, at most `limit` updates (0 means no limit). */
struct feed_range feed_range_locked(const struct feed *f, uint64_t since, uint64_t limit);

/* Park w until the next publish, its deadline, its peer leaving, or shutdown. Returns -1
 * (not parked) when the feed is closing. The waiter must stay valid until it is woken or
 * unparked. The feed notes which thread parked it: a thread that wakes many waiters wakes
 * its own (those it parked) after everyone else's (see wake_all in feed.c). */
int feed_park_locked(struct feed *f, struct feed_waiter *w);
/* Take w off the list if it is there (a request that ends while parked). */
void feed_unpark_locked(struct feed *f, struct feed_waiter *w);
/* Parked waiters right now. */
size_t feed_parked(struct feed *f);
bool feed_closing_locked(const struct feed *f);

/* Wake the waiters whose deadline has passed and, when check_peers is set, those whose
 * peer has shut down its side of the socket (poll POLLRDHUP). Returns how many woke;
 * *next_deadline_ns receives the earliest deadline still pending (INT64_MAX if none). */
size_t feed_sweep(struct feed *f, int64_t now_ns, bool check_peers,
                  int64_t *next_deadline_ns);
/* Block until `until_ns` (CLOCK_MONOTONIC), a park with an earlier deadline, or close. */
void feed_wait_sweep(struct feed *f, int64_t until_ns);

/* Wake every parked waiter with FEED_WAKE_DROP and advance the drop generation, so
 * requests that were not parked can tell too (the demo's "drop connections" button).
 * Returns how many were parked. */
size_t feed_drop(struct feed *f);
/* The drop generation: how many times feed_drop was called. */
uint64_t feed_drop_generation_locked(const struct feed *f);

/* Refuse new parks and publishes; wake every waiter with FEED_WAKE_SHUTDOWN. */
void feed_close(struct feed *f);

#endif
