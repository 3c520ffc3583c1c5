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
 * FIN that has arrived is taken out of `read` here (peer_fin says so): the TCP state tells
 * (RFC 9293 section 3.3.2), and in state CLOSED, where it does not, a peek at the socket
 * does. Our own FIN is taken out of `written` once we have sent it (shutdown(SHUT_WR);
 * own_fin), except in state CLOSED, which does not tell whether we sent one before a
 * reset: `payload_out` (the data bytes that left) is the count to use there. On the side
 * that opened the connection, `written` also counts the SYN once acked: callers either
 * take a snapshot at connect and subtract, or subtract 1 (pushpull-client does).
 */
#ifndef PUSHPULL_SOCKACCT_H
#define PUSHPULL_SOCKACCT_H

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
};

/* Fill *out for socket fd. 0 on success; -1 (errno set) when the socket is not TCP, the
 * kernel refuses, or the counts kept moving for 64 tries (EAGAIN). In state CLOSED it may
 * consume a pending error (ECONNRESET): read the account where the socket's reader no
 * longer cares, or before the reset. */
int sockacct_read(int fd, struct sockacct *out);

#endif
