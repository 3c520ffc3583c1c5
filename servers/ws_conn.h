/* ws_conn.h: one upgraded WebSocket connection on the server: its frames, its bytes, its
 * heartbeat and its end.
 *
 * A connection is made at the handshake (ws.c), gets its socket when libmicrohttpd hands
 * the upgraded connection over (ws_conn_attach), and from then on belongs to the
 * WebSocket thread (ws_loop.c), which calls the functions below as its socket, the feed
 * and its timer say, and asks after each call what the connection wants: to be told when
 * the socket takes bytes again (ws_conn_wants_out), when to be woken (ws_conn_deadline),
 * or to be let go (ws_conn_ended, then ws_conn_release). The connection decides what to
 * say and when to end; the thread only watches. See ws_conn_io.c for the framing and
 * the accounting, ws_conn.c for the back-pressure, the heartbeat and the close path.
 */
#ifndef PUSHPULL_WS_CONN_H
#define PUSHPULL_WS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "stats.h"

struct request;
struct ws_conn;

/* A connection for the upgrade request req that delivers the updates after `cursor`,
 * may publish its text messages or not, and was made in drop generation `drops`. NULL
 * when out of memory. Owned by req->state until ws_conn_attach succeeds
 * (ws.c frees it with ws_conn_free when the 101 never went out), then by the WebSocket
 * thread, which ends it with ws_conn_release. */
struct ws_conn *ws_conn_new(struct request *req, uint64_t cursor, bool may_publish,
                            uint64_t drops);
/* Free a connection that was never attached. */
void ws_conn_free(struct ws_conn *c);
/* libmicrohttpd has sent the 101 and handed over socket fd (urh closes it) with the
 * extra_len bytes it had read past the handshake (copied): set the socket up; the
 * handshake's header bytes are counted here (the framing context is made when first
 * needed). 0, or -1 when out of memory: the caller then releases it at once
 * (ws_conn_cut, ws_conn_release). */
int ws_conn_attach(struct ws_conn *c, int fd, struct MHD_UpgradeResponseHandle *urh,
                   const char *extra, size_t extra_len);

/* The socket (for the thread's epoll set). */
int ws_conn_fd(const struct ws_conn *c);
/* The drop generation the connection was made in (POST /drop cuts older ones). */
uint64_t ws_conn_drops(const struct ws_conn *c);

/* The socket is readable (or the peer is gone), or frames handed over at the upgrade
 * wait: read a bounded amount, act on what came, answer what needs answering. */
void ws_conn_readable(struct ws_conn *c);
/* The socket takes bytes again, or the feed has news: send what is queued, and render
 * new updates while the queue is short. */
void ws_conn_pump(struct ws_conn *c);
/* Its deadline (ws_conn_deadline) has come: a ping is due, a ping went unanswered for
 * two heartbeats (the peer is cut), or a closing handshake took too long. */
void ws_conn_timer(struct ws_conn *c, int64_t now_ns);
/* Begin the closing handshake with this code (1001: the server is shutting down). */
void ws_conn_close(struct ws_conn *c, uint16_t code);
/* End it at once without a close frame, counting why in counter `why` (SW_CUTS,
 * SW_DEAD_PEERS, SW_OVERFLOWS), or nowhere for SW_FIELDS. */
void ws_conn_cut(struct ws_conn *c, enum stats_ws_field why);

/* Bytes of framing contexts freed since the last call (by every connection), so the
 * thread can give memory back to the system when much has been freed. */
size_t ws_conn_freed_bytes(void);
/* When the connection wants ws_conn_timer next (CLOCK_MONOTONIC), INT64_MAX for never. */
int64_t ws_conn_deadline(const struct ws_conn *c);
/* 1 when the socket refused bytes and the connection waits for it to take more. */
bool ws_conn_wants_out(const struct ws_conn *c);
/* 1 when the connection is over and waits to be released. */
bool ws_conn_ended(const struct ws_conn *c);
/* Settle its bytes against the kernel, count it closed, let libmicrohttpd close the
 * socket (MHD_upgrade_action CLOSE: the upgrade request is freed from then on) and free
 * the connection. The caller has taken the socket out of every set it watched. */
void ws_conn_release(struct ws_conn *c);

#endif
