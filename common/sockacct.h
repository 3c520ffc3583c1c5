/* sockacct.h: the kernel's count of the bytes an application wrote to and read from a
 * TCP socket, so the lab's byte figures can be held against what crossed the socket.
 *
 * Written = tcpi_bytes_acked + SIOCOUTQ (acked, plus still queued: sent-unacked and
 * unsent). Read = tcpi_bytes_received - SIOCINQ (arrived in order, minus what is still
 * waiting to be read). Both need Linux 4.1+ (tcpi_bytes_acked, tcpi_bytes_received). The
 * counts start at the handshake; take a snapshot when the connection opens and subtract.
 * The counts and the queues come from separate calls; they are read until they agree (an
 * ACK between them would otherwise hide bytes from `written`).
 * Sequence-space corrections: a FIN counts as one byte of the sequence space. A peer's
 * FIN that has arrived is taken out of `read` here (peer_fin says so), and our own out of
 * `written` once we have sent it (shutdown(SHUT_WR); own_fin): the TCP state tells (RFC
 * 9293 section 3.3.2). State CLOSED (a reset, or both FINs crossed) tells neither: there
 * `payload_out` (the data bytes that left) is the count of what was written, and
 * sockacct_closed_fin asks the socket whether the peer's FIN came, for a reader that has
 * not read since (a read may have taken a reset's error, which the answer relies on). On
 * the side that opened the connection, `written` also counts the SYN once acked: callers
 * either take a snapshot at connect and subtract, or subtract 1 (pushpull-client does).
 */
#ifndef PUSHPULL_SOCKACCT_H
#define PUSHPULL_SOCKACCT_H

#include <stdbool.h>
#include <stdint.h>

struct sockacct {
    uint64_t written;     /* bytes the application has handed to the kernel */
    uint64_t read;        /* bytes the application has taken from the kernel */
    uint64_t segs_out;    /* TCP segments sent (tcpi_segs_out) */
    uint64_t segs_in;     /* TCP segments received (tcpi_segs_in) */
    int peer_fin;         /* 1 when the peer's FIN has arrived (and was left out of read) */
    int own_fin;          /* 1 when our FIN has been sent (and was left out of written) */
    int closed;           /* 1 in state CLOSED: both FINs exchanged (the socket handed its
                             end to TIME_WAIT), or a reset; own_fin is 0 then */
    uint64_t payload_out; /* data bytes that left, retransmissions counted once
                             (tcpi_bytes_sent - tcpi_bytes_retrans; Linux 5.5+) */
    uint64_t waiting;     /* bytes waiting to be read: the queue's size the reading
                             last took, 0 where it proved the queue empty (set by
                             sockacct_read_served and _accepted only) */
};

/* Fill *out for socket fd. 0 on success; -1 (errno set) when the socket is not TCP, the
 * kernel refuses, or the counts kept moving for 64 tries (EAGAIN). */
int sockacct_read(int fd, struct sockacct *out);
/* The same counts for a socket that accept() gave, from fewer system calls: TCP_INFO and
 * SIOCINQ, and TCP_INFO once more only when bytes wait to be read (a server reads its
 * sockets at every request's end). `written` is taken from the data sent once plus the
 * unsent queue, which on the accepting side equals acked plus the send queue (the side
 * that connected would lack its SYN); it relies on the kernel counting every
 * retransmitted byte it sends once in tcpi_bytes_sent and once in tcpi_bytes_retrans. */
int sockacct_read_accepted(int fd, struct sockacct *out);
/* sockacct_read_accepted for a caller that knows `floor`, a count `read` cannot be below
 * (what its parser has consumed, in the kernel's count): when what arrived, less any
 * queue taken before it, comes to the floor, that is `read`, and the reading stops there
 * (one TCP_INFO when nothing waits to be read; SIOCINQ then TCP_INFO with queue_first,
 * for when the next request is likely in already). A floor above the true count would be
 * taken for it: it must be a proven lower bound. Not used in state CLOSED. */
int sockacct_read_served(int fd, uint64_t floor, bool queue_first, struct sockacct *out);
/* For a socket in state CLOSED: 1 when the peer's FIN came before the end (it is then in
 * `read`), 0 when not. Takes a reset's pending error (ECONNRESET) from the socket, and
 * answers 1 wrongly after a reset without a FIN whose error a read already took: call it
 * only where the socket's reader has not read since the reset (a server at a request's
 * end). */
int sockacct_closed_fin(int fd);

#endif
