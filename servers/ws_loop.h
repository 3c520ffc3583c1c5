/* ws_loop.h: the thread that serves every upgraded WebSocket connection.
 *
 * After the 101, libmicrohttpd no longer watches a socket, so the server's WebSocket
 * connections live on one thread of their own: an epoll set of their sockets, their
 * deadlines (heartbeats, closing handshakes), and one waiter on the feed for all of them
 * (ws_loop.c says how a publish reaches them). libmicrohttpd's threads hand connections
 * over (ws_loop_adopt); everything else happens on the thread.
 */
#ifndef PUSHPULL_WS_LOOP_H
#define PUSHPULL_WS_LOOP_H

#include <stddef.h>

struct server;
struct ws_conn;
struct ws_loop;

/* Start the thread for server srv (its feed and settings), with room for `capacity`
 * connections at once (every connection libmicrohttpd may hold). NULL with a message in
 * err. Stopped and freed by ws_loop_free. */
struct ws_loop *ws_loop_start(struct server *srv, size_t capacity, char *err,
                              size_t errlen);
/* Hand an attached connection over to the thread (any thread may call). 0, or -1 when
 * the thread has stopped (or is stopping): the caller then releases it itself. */
int ws_loop_adopt(struct ws_loop *l, struct ws_conn *c);
/* Stop the thread: connections still open are cut (shutdown has had its chance to send
 * them 1001 by then) and given back to libmicrohttpd, which must still be running. Safe
 * to call twice. */
void ws_loop_stop(struct ws_loop *l);
/* ws_loop_stop, then free. NULL is fine. */
void ws_loop_free(struct ws_loop *l);

#endif
