/* sockacct.c: per-socket byte counts from TCP_INFO and the socket queues (see sockacct.h).
 */
#include "sockacct.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* TCP states as tcpi_state reports them (the kernel's include/net/tcp_states.h; glibc's
 * netinet/tcp.h has the names but lacks tcpi_bytes_acked, linux/tcp.h the reverse). */
enum { ST_TIME_WAIT = 6, ST_CLOSE_WAIT = 8, ST_LAST_ACK = 9, ST_CLOSING = 11 };

/* The queues, SIOCOUTQ and SIOCINQ. 0 or -1. */
static int queues(int fd, int *outq, int *inq)
{
    return ioctl(fd, SIOCOUTQ, outq) != 0 || ioctl(fd, SIOCINQ, inq) != 0 ? -1 : 0;
}

/* A peer still sending (or acking) while we look moves bytes_received and SIOCINQ (or
 * bytes_acked and SIOCOUTQ) together, but between two system calls: a TCP_INFO and queue
 * sizes from different instants would miscount by what arrived in between. So the queues
 * are read before and after TCP_INFO, and the three kept only when the queues did not
 * move (the application is not reading or writing meanwhile: only the peer moves them).
 * A peer that keeps the queues moving for all the tries (it cannot for long: a receive
 * buffer that nobody reads fills) leaves the last reading, off by at most one packet. */
#define STABLE_TRIES 100

int sockacct_read(int fd, struct sockacct *out)
{
    struct tcp_info ti;
    int outq = 0, inq = 0;
    for (int i = 0; i < STABLE_TRIES; i++) {
        int outq0, inq0;
        socklen_t len = sizeof(ti);
        if (queues(fd, &outq0, &inq0) != 0 ||
            getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
            queues(fd, &outq, &inq) != 0)
            return -1;
        if (outq == outq0 && inq == inq0)
            break;
    }
    /* States in which the peer's FIN has arrived (RFC 9293 section 3.3.2). */
    out->peer_fin = ti.tcpi_state == ST_CLOSE_WAIT || ti.tcpi_state == ST_LAST_ACK ||
                    ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT;
    out->written = ti.tcpi_bytes_acked + (uint64_t)outq;
    out->read = ti.tcpi_bytes_received - (uint64_t)inq - (uint64_t)out->peer_fin;
    out->segs_out = ti.tcpi_segs_out;
    out->segs_in = ti.tcpi_segs_in;
    return 0;
}
