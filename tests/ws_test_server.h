/* ws_test_server.h: a small WebSocket feed server that runs inside a test, for the
 * client's WebSocket tests while the real server has no /ws.
 *
 * It serves the wire contract of GET /ws (README, "The server and its HTTP contract")
 * with its own code, none of the client's: the handshake (its own SHA-1 and base64 from
 * libcrypto, its own checks of the request), unmasked text frames of the update JSON,
 * ?since=N replay with a reset frame when updates after N are gone, pings every ping_ms,
 * client frames read and unmasked by hand (text frames published as updates, pings
 * answered, pongs counted, close frames answered). It also serves GET /events, a plain
 * SSE stream of the same feed (with Last-Event-ID replay), for the client's observer.
 * The test drives it: publish, cut every WebSocket without a close frame, send every one
 * a close frame, forget old updates, answer handshakes badly; and it reads what the
 * server saw: handshakes, their since values, the bytes of each handshake request, the
 * frames and pongs received. One thread accepts, one detached thread serves each
 * connection (wts_stop waits for them all); the feed and the counts are under one mutex.
 * Every wait is bounded.
 */
#ifndef PUSHPULL_WS_TEST_SERVER_H
#define PUSHPULL_WS_TEST_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WTS_MAX_HANDSHAKES 256

enum wts_bad {
    WTS_GOOD,       /* frames as the RFC says */
    WTS_BAD_UTF8,   /* a text frame of invalid UTF-8 (a client must close 1007) */
    WTS_MASKED,     /* a masked server frame (1002) */
    WTS_BIG_MESSAGE /* a 4 KiB text message (1009 under --max-body 1KiB) */
};

struct wts_config {
    unsigned port;          /* listen here; 0 = any free port */
    int publish_ms;         /* publish "tick N" every publish_ms; 0 = only wts_publish */
    int payload_bytes;      /* pad each tick's data to this many bytes; 0 = as it is */
    int ping_ms;            /* ping every WebSocket every ping_ms; 0 = never */
    bool bad_accept;        /* answer the handshake with a wrong Sec-WebSocket-Accept */
    int refuse_status;      /* answer /ws with this status and a JSON error; 0 = 101 */
    enum wts_bad bad_frame; /* sent after the first update, on the first bad_budget
                               WebSockets */
    unsigned bad_budget;
    unsigned fin_reset_budget; /* the first connections: a FIN at once, then, when the
                                  request comes, a reset (SO_LINGER 0) */
};

struct wts_stats {
    unsigned handshakes;                 /* /ws requests answered */
    int64_t since[WTS_MAX_HANDSHAKES];   /* each one's ?since=, -1 when none (-2: a
                                            fin_reset connection, not answered) */
    uint64_t req_bytes;                  /* their request heads, all bytes */
    uint64_t resp_bytes;                 /* the answers' heads (and bodies) written */
    unsigned resets_sent;                /* reset frames written */
    uint64_t updates_sent;               /* update frames written */
    unsigned pings_sent, pongs_received; /* heartbeats */
    unsigned texts_received;             /* client text frames (published) */
    uint64_t text_bytes_received;        /* their payload bytes */
    unsigned closes_received;            /* client close frames */
    unsigned last_close_code;            /* the status code of the latest */
    unsigned bad_sent;                   /* bad frames written (bad_frame) */
    unsigned fin_resets;                 /* connections closed FIN-then-reset */
    unsigned unmasked_frames;            /* client frames without a mask (must be 0) */
    uint64_t last_sent_at_cut;           /* the newest seq the last cut connections had */
};

struct wts; /* opaque */

/* Start listening and serving; NULL on failure. Stop with wts_stop. */
struct wts *wts_start(const struct wts_config *cfg);
unsigned wts_port(const struct wts *w);
/* Publish data (ASCII, no quote or backslash) as the next update; its seq. */
uint64_t wts_publish(struct wts *w, const char *data);
/* Cut every open WebSocket: shutdown(SHUT_RDWR), no close frame. */
void wts_cut_all(struct wts *w);
/* Send every open WebSocket a close frame with code, then close after its answer. */
void wts_close_all(struct wts *w, unsigned code);
/* Forget every update published so far: ?since= below the newest gets a reset frame. The
 * newest seq forgotten. */
uint64_t wts_forget_all(struct wts *w);
/* A copy of the counts so far. */
void wts_stats(struct wts *w, struct wts_stats *out);
/* Stop: close everything, join every thread, free. */
void wts_stop(struct wts *w);

#endif
