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
enum {
    ST_FIN_WAIT1 = 4,
    ST_FIN_WAIT2 = 5,
    ST_TIME_WAIT = 6,
    ST_CLOSE = 7,
    ST_CLOSE_WAIT = 8,
    ST_LAST_ACK = 9,
    ST_CLOSING = 11
};

int sockacct_read(int fd, struct sockacct *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int outq = 0, inq = 0;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -1;
    if (ioctl(fd, SIOCOUTQ, &outq) != 0 || ioctl(fd, SIOCINQ, &inq) != 0)
        return -1;
    /* States in which the peer's FIN has arrived (RFC 9293 section 3.3.2). */
    out->peer_fin = ti.tcpi_state == ST_CLOSE_WAIT || ti.tcpi_state == ST_LAST_ACK ||
                    ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT;
    /* States in which our FIN has been queued: it is in SIOCOUTQ until acked, then in
     * tcpi_bytes_acked. */
    out->own_fin = ti.tcpi_state == ST_FIN_WAIT1 || ti.tcpi_state == ST_FIN_WAIT2 ||
                   ti.tcpi_state == ST_CLOSING || ti.tcpi_state == ST_TIME_WAIT ||
                   ti.tcpi_state == ST_LAST_ACK;
    out->closed = ti.tcpi_state == ST_CLOSE;
    out->written = ti.tcpi_bytes_acked + (uint64_t)outq - (uint64_t)out->own_fin;
    out->payload_out = ti.tcpi_bytes_sent - ti.tcpi_bytes_retrans;
    out->read = ti.tcpi_bytes_received - (uint64_t)inq - (uint64_t)out->peer_fin;
    out->segs_out = ti.tcpi_segs_out;
    out->segs_in = ti.tcpi_segs_in;
    return 0;
}
