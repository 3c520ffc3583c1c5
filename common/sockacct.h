/* sockacct.h: the kernel's count of the bytes an application wrote to and read from a
 * TCP socket, so the lab's byte figures can be held against what crossed the socket.
 *
 * Written = tcpi_bytes_acked + SIOCOUTQ (acked, plus still queued: sent-unacked and
 * unsent). Read = tcpi_bytes_received - SIOCINQ (arrived in order, minus what is still
 * waiting to be read). Both need Linux 4.1+ (tcpi_bytes_acked, tcpi_bytes_received). The
 * counts start at the handshake; take a snapshot when the connection opens and subtract.
 * A FIN, once acked or received, adds one to the sequence space and so to these counts:
 * compare snapshots taken before either side closes.
 */
#ifndef PUSHPULL_SOCKACCT_H
#define PUSHPULL_SOCKACCT_H

#include <stdint.h>

struct sockacct {
    uint64_t written;  /* bytes the application has handed to the kernel */
    uint64_t read;     /* bytes the application has taken from the kernel */
    uint64_t segs_out; /* TCP segments sent (tcpi_segs_out) */
    uint64_t segs_in;  /* TCP segments received (tcpi_segs_in) */
};

/* Fill *out for socket fd. 0 on success; -1 (errno set) when the socket is not TCP or
 * the kernel refuses. */
int sockacct_read(int fd, struct sockacct *out);

#endif
