/* sockacct.c: per-socket byte counts from TCP_INFO and the socket queues (see sockacct.h).
 */
#include "sockacct.h"

#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

int sockacct_read(int fd, struct sockacct *out)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int outq = 0, inq = 0;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -1;
    if (ioctl(fd, SIOCOUTQ, &outq) != 0 || ioctl(fd, SIOCINQ, &inq) != 0)
        return -1;
    out->written = ti.tcpi_bytes_acked + (uint64_t)outq;
    out->read = ti.tcpi_bytes_received - (uint64_t)inq;
    out->segs_out = ti.tcpi_segs_out;
    out->segs_in = ti.tcpi_segs_in;
    return 0;
}
