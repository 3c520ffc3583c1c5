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
/* HPACK on the way down (docs/MODELS.md, "HTTP/2 and TLS"): the bytes of the response
 * header blocks that crossed, held against the same fields decoded, measured the way
 * h2load (nghttp2-client) reports its header "space savings": decoded = the sum of every
 * response field's name and value length, :status included and no per-field overhead
 * (h2_resp_field_bytes); compressed = the HEADERS frames' payload. The client never sees
 * the frames (libcurl decodes them inside), so the compressed bytes are what is left of
 * HTTP/2's bytes down once everything else is taken out, and every part taken out is
 * counted or fixed by the protocol:
 *   HTTP/2's bytes down: the kernel's count under h2c; under h2 the plaintext of the TLS
 *     application-data records (tls_app_bytes_received), so handshakes, session tickets
 *     and each record's header, inner type and tag are out;
 *   the bodies (resp_body_bytes, which libcurl hands over whole);
 *   a 9-byte frame header per HEADERS frame (h2_resp_heads) and per DATA frame
 *     (h2_data_frames);
 *   per connection, the front's own frames: WIRE_H2_PREFACE_DOWN.
 * Over the whole run (run[] totals), so every connection's first answer, which pays its
 * fields as literals, is in, as in h2load's count. tests/test_protocols.c holds the
 * result against the HEADERS frames a packet capture decodes, tests/test_h2load.c against
 * h2load. 0 with *block and *fields set, or -1 when it cannot be derived: no HTTP/2
 * answers, an answer that was a stream (h2_resp_unsized: its DATA frames are not known),
 * or frames other than these (the remainder would be negative). */
#define WIRE_H2_FRAME_HEADER 9
/* nghttpx's frames on every HTTP/2 connection besides the answers: its SETTINGS (a
 * frame header and 4 settings of 6 B: nghttpx 1.52) and its acknowledgement of the
 * client's SETTINGS (a bare frame header). */
#define WIRE_H2_PREFACE_DOWN (9 + 4 * 6 + 9)
int wire_hpack_down(const uint64_t *run, bool tls, uint64_t *block, uint64_t *fields);

/* The window starts (ends): read every open socket. */
void wire_window_start(struct wire *w);
void wire_window_end(struct wire *w);

#endif
