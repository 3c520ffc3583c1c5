/* sockacct.c: per-socket byte counts from TCP_INFO and the socket queues (see sockacct.h).
 */
#include "sockacct.h"

#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* TCP states as tcpi_state reports them (the kernel's include/net/tcp_states.h; glibc's
 * netinet/tcp.h has the names but lacks tcpi_bytes_acked, linux/tcp.h the reverse). */
enum {
    ST_FIN_WAIT1 = 4,
    ST_FIN_WAIT2 = 5,
    ST_TIME_WAIT = 6,
    ST_CLOSE = 7,
    ST_CLOSE_WAIT = 8,
    ST_LAST_ACK = 9,
    ST_CLOSING = 11
};

/* How often sockacct_read tries for a consistent set before it gives up. */
#define SOCKACCT_TRIES 64

int sockacct_read(int fd, struct sockacct *out)
{
    struct tcp_info ti, again;
    socklen_t len = sizeof(ti);
    int outq = 0, inq = 0;
    /* TCP_INFO and the queue sizes are separate calls, and an ACK (or data) that lands
     * between them moves bytes from the queue to the acked count unseen: written came out
     * short by up to a whole response. Read TCP_INFO again after the queues; when neither
     * count moved, the queues belong to the same moment (only this thread writes and reads
     * the socket). */
    for (int tries = 0;; tries++) {
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
            return -1;
        if (ioctl(fd, SIOCOUTQ, &outq) != 0 || ioctl(fd, SIOCINQ, &inq) != 0)
            return -1;
        len = sizeof(again);
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &again, &len) != 0)
            return -1;
        if (ti.tcpi_bytes_acked == again.tcpi_bytes_acked &&
            ti.tcpi_bytes_received == again.tcpi_bytes_received &&
            ti.tcpi_state == again.tcpi_state)
            break;
        if (tries == SOCKACCT_TRIES) {
            errno = EAGAIN;
            return -1;
        }
    }
    /* States in which the peer's FIN has arrived (RFC 9293 section 3.3.2). */
    out->peer_fin = ti.tcpi_state == ST_CLOSE_WAIT || ti.tcpi_state == ST_LAST_ACK ||
                    ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT;
    out->closed = ti.tcpi_state == ST_CLOSE;
    /* States in which our FIN has been queued: it is in SIOCOUTQ until acked, then in
     * tcpi_bytes_acked. */
    out->own_fin = ti.tcpi_state == ST_FIN_WAIT1 || ti.tcpi_state == ST_FIN_WAIT2 ||
                   ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT ||
                   ti.tcpi_state == ST_LAST_ACK;
    out->written = ti.tcpi_bytes_acked + (uint64_t)outq - (uint64_t)out->own_fin;
    out->payload_out = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans;
    out->read = ti.tcpi_bytes_received - (uint64_t)inq - (uint64_t)out->peer_fin;
    out->segs_out = ti.tcpi_segs_out;
    out->segs_in = ti.tcpi_segs_in;
    return 0;
}

int sockacct_closed_fin(int fd)
{
    /* With nothing left to read, a peek returns 0 once the peer's FIN has come (the
     * kernel's SOCK_DONE), before it looks at a pending error; after a reset alone it
     * returns that error (and takes it), or 0 again when a read took it already. */
    char c;
    int inq = 0;
    return ioctl(fd, SIOCINQ, &inq) == 0 && inq == 0 &&
           recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}
