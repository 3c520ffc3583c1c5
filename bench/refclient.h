/* refclient.h: the bench's reference client, a raw-socket yardstick for the lab's own.
 *
 * It holds N subscribers to one URL with nothing between it and the kernel: no libcurl,
 * one epoll loop per thread (wrk's model), connections spread over the loops, one
 * non-blocking socket and one small struct per connection. Each read() is stamped with
 * CLOCK_REALTIME as soon as it returns, so an update's latency is the moment its bytes
 * were read minus the publish stamp (ts_ns) inside it, whatever else the loop has to do
 * in the same turn. The transports (ref_transport.h) are SSE, long polling with the lab's
 * ?since= cursor or nchan's Last-Modified/ETag cursor, and WebSocket.
 *
 * What it costs is reported with what it saw: its loops' busy share and how many turns
 * found more ready sockets than one epoll_wait returns, so a reader can tell when the
 * instrument rather than the server was the bottleneck.
 *
 * Independence: it shares no code with what it measures or stands beside: nothing of the
 * lab server (servers/), nothing of the instrumented client (clients/: no libcurl, no
 * wslay, none of its loop, transports or update reader). Its HTTP response parser
 * (http_resp.c), WebSocket framing (ws_frame.c) and update scanner (update_scan.c) are
 * its own, written from RFC 9112 and RFC 6455. From common/ it takes utilities only: the
 * clock, buffers, histograms, unit parsing, and three wire helpers that are specified and
 * tested on their own: the chunked decoder, and the SSE field parser and WebSocket accept
 * key, which the instrumented client uses too. A bug in those two would be in both
 * clients; the runs against nginx + nchan are what would show it.
 */
#ifndef PUSHPULL_BENCH_REFCLIENT_H
#define PUSHPULL_BENCH_REFCLIENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "ref_transport.h"

struct ref_config {
    const struct ref_transport *tp; /* the transport (ref_transport_find) */
    struct sockaddr_in addr;        /* the server (IPv4) */
    char host[128];                 /* the Host header: host[:port] as in the URL */
    char target[1024];              /* the request target: path and query */
    char headers[1024];             /* extra request header lines, each ending CRLF */
    uint64_t clients;               /* connections to hold */
    unsigned threads;               /* event loops */
    unsigned max_pending;           /* connections being opened at once, over all loops */
};

struct ref_result {
    uint64_t clients;       /* connections asked for */
    uint64_t ready;         /* connections ready at the end */
    uint64_t connects;      /* connections opened (reconnects included) */
    uint64_t requests;      /* requests written */
    uint64_t responses;     /* responses that ended (long polls answered) */
    uint64_t deliveries;    /* updates received */
    uint64_t pub_stamped;   /* of which carried the publisher's stamp (pub_ns) */
    uint64_t duplicates;    /* updates whose seq was not past the previous one */
    uint64_t missed;        /* seqs skipped between two deliveries on a connection */
    uint64_t bytes_read;    /* bytes read from the sockets */
    uint64_t bytes_written; /* bytes written to the sockets */
    uint64_t errors[REF_ERR_COUNT]; /* by category */
    uint64_t turns;                 /* epoll_wait calls that returned events */
    uint64_t full_turns;            /* of which returned as many as it could take */
    double busy_max_pct;      /* the busiest loop's share of the window spent working */
    double window_s;          /* the window's length (mark to stop) */
    struct hist *latency;     /* receipt - ts_ns in us, all loops merged (owned) */
    struct hist *pub_latency; /* receipt - pub_ns in us, likewise (owned) */
};

/* The transport called name ("sse", "long", "long-etag", "ws"), or NULL. */
const struct ref_transport *ref_transport_find(const char *name);
/* Every transport, NULL-terminated (for --help). */
extern const struct ref_transport *const ref_transports[];

/* Fill cfg->addr, host and target from an http:// or ws:// URL whose host is an IPv4
 * address or "localhost" (port 80 when absent). 0, or -1 with the reason in err. */
int ref_url_parse(const char *url, struct ref_config *cfg, char *err, size_t errlen);

struct refclient; /* opaque */

/* Start the loops; they open the connections at once (at most max_pending at a time).
 * NULL with a message in err on failure. Stop and free it with refclient_stop. */
struct refclient *refclient_start(const struct ref_config *cfg, char *err, size_t errlen);
/* Connections ready now (subscribed: see ref_transport.ready_at_head). */
uint64_t refclient_ready(struct refclient *rc);
/* Updates delivered since the start (not only in the window), while it runs. */
uint64_t refclient_deliveries(struct refclient *rc);
/* The measurement window starts now: the counts, the loops' busy share and the
 * latencies in the result are those after this call. Each loop takes its snapshot at its
 * next turn; the call returns once all have (within 50 ms). Without a mark the window
 * starts with the loops. */
void refclient_mark(struct refclient *rc);
/* Stop the loops, close every connection, fill *out (out->latency and out->pub_latency
 * become the caller's: hist_free them) and free rc. */
void refclient_stop(struct refclient *rc, struct ref_result *out);

#endif
