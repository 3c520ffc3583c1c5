/* wire.h: the kernel's count of the bytes that crossed the users' sockets during the
 * measurement window, for every protocol.
 *
 * The client's split of its bytes into headers, bodies and framing is what crossed the
 * wire only for plain HTTP/1.1 (and the WebSocket); over TLS and under HTTP/2 it is the
 * decoded sizes, and the kernel's counts (common/sockacct.h) alone are the wire. Those
 * are read per socket at its close, for the whole run (the kernel check). This file
 * gives the window's share: every socket open at the window's start is read then, every
 * socket still open at its end is read then, and a socket's window bytes are its count at
 * the window's end (or its close) minus its count at the window's start (or its open).
 * They go into the win[] slots of the kernel counters (counters.h), the one place those
 * are added to.
 *
 * Sockets are found by descriptor: the table is indexed by fd and grows as needed.
 * Ownership: the table is the struct wire's; a slot borrows the counters its user counts
 * into.
 */
#ifndef PUSHPULL_WIRE_H
#define PUSHPULL_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "counters.h"
#include "sockacct.h"

struct wire_sock;

struct wire {
    struct wire_sock *by_fd; /* indexed by descriptor (owned) */
    int cap;                 /* entries in by_fd */
    bool measuring;          /* between wire_window_start and wire_window_end */
};

/* An empty table. */
void wire_init(struct wire *w);
/* Free the table. */
void wire_free(struct wire *w);
/* Socket fd was opened by a user who counts into ctr. 0, or -1 (out of memory: the
 * socket's window bytes are then missing from the wire figures). */
int wire_opened(struct wire *w, int fd, struct counters *ctr);
/* Socket fd is about to be closed; a is its kernel account, read just now (NULL when it
 * could not be read). */
void wire_closing(struct wire *w, int fd, const struct sockacct *a);
/* A request is about to go out on socket fd: 1 the first time for this socket, with
 * *setup_bytes its bytes both ways so far (the connection's setup: a TLS handshake,
 * HTTP/2's preface and SETTINGS, nothing for plain HTTP/1.1; TCP's SYN left out); 0 for
 * a socket that carried a request before (or is unknown, or unreadable). */
int wire_first_request(struct wire *w, int fd, uint64_t *setup_bytes);
/* The window starts (ends): read every open socket. */
void wire_window_start(struct wire *w);
void wire_window_end(struct wire *w);

#endif
