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

/* The flags the TCP state gives (RFC 9293 section 3.3.2). */
static void state_flags(unsigned state, struct sockacct *out)
{
    /* States in which the peer's FIN has arrived. */
    out->peer_fin = state == ST_CLOSE_WAIT || state == ST_LAST_ACK || state == ST_CLOSING ||
                    state == ST_TIME_WAIT;
    out->closed = state == ST_CLOSE;
    /* States in which our FIN has been queued: it is in SIOCOUTQ until acked, then in
     * tcpi_bytes_acked; in tcpi_notsent_bytes until sent, never in tcpi_bytes_sent. */
    out->own_fin = state == ST_FIN_WAIT1 || state == ST_FIN_WAIT2 || state == ST_CLOSING ||
                   state == ST_TIME_WAIT || state == ST_LAST_ACK;
}

/* What both readings take from TCP_INFO alone. */
static void info_counts(const struct tcp_info *ti, struct sockacct *out)
{
    out->payload_out = ti->tcpi_bytes_sent - ti->tcpi_bytes_retrans;
    out->segs_out = ti->tcpi_segs_out;
    out->segs_in = ti->tcpi_segs_in;
}

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
    state_flags(ti.tcpi_state, out);
    out->written = ti.tcpi_bytes_acked + (uint64_t)outq - (uint64_t)out->own_fin;
    out->read = ti.tcpi_bytes_received - (uint64_t)inq - (uint64_t)out->peer_fin;
    info_counts(&ti, out);
    return 0;
}

/* The peer's bytes that have arrived in order, its FIN left out when the state says it
 * came (one TCP_INFO). */
static uint64_t arrived(const struct tcp_info *ti)
{
    struct sockacct flags;
    state_flags(ti->tcpi_state, &flags);
    return ti->tcpi_bytes_received - (uint64_t)flags.peer_fin;
}

int sockacct_read_served(int fd, uint64_t floor, bool queue_first, struct sockacct *out)
{
    struct tcp_info ti, again;
    socklen_t len = sizeof(ti);
    int inq = 0;
    /* `written` comes whole from one TCP_INFO, a snapshot the kernel takes under the
     * socket's lock: the data that left once (tcpi_bytes_sent - tcpi_bytes_retrans) plus
     * what is queued but not sent yet (tcpi_notsent_bytes), so no ACK can fall between two
     * calls. `read` is what arrived less what waits in the queue, from two calls; bytes
     * may arrive between them, never leave (only this thread reads the socket), so:
     *   - arrived (TCP_INFO) less a queue size taken before it is at least `read`: the
     *     bytes that came in between count in the first and not the second. Before any
     *     queue size, that is arrived alone. When this upper bound meets the caller's
     *     floor, it is `read` (floor <= read <= bound), and no further call is needed:
     *     one TCP_INFO when nothing waits, the usual case at a request's end;
     *   - a queue size taken after TCP_INFO gives a lower bound; when the queue is empty
     *     it is `read` (nothing can have arrived unseen: the queue would hold it);
     *   - two TCP_INFOs around one queue size that agree (no byte, no FIN between) make
     *     the queue belong to both: `read` is exact.
     * Where the next request is already in when the reading starts, arrived alone is over
     * the floor, and TCP_INFO, SIOCINQ and TCP_INFO again were needed; with the queue
     * taken first (queue_first) the bound meets the floor at once: SIOCINQ and TCP_INFO.
     * The caller picks the order from its last reading (`waiting`); measured under wrk on
     * /poll, the next request was in at 93% of the request ends with one connection and
     * 5% with a hundred (the server then busy with the others).
     * In state CLOSED the state no longer says whether the peer's FIN is in
     * tcpi_bytes_received (sockacct_closed_fin asks the socket): the floor is not used. */
    if (queue_first && ioctl(fd, SIOCINQ, &inq) != 0)
        return -1;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return -1;
    for (int tries = 0;; tries++) {
        /* the queue size in hand (0 before the first) was taken before ti */
        if (ti.tcpi_state != ST_CLOSE && arrived(&ti) - (uint64_t)inq == floor)
            break;
        if (ioctl(fd, SIOCINQ, &inq) != 0)
            return -1;
        if (inq == 0)
            break;
        len = sizeof(again);
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &again, &len) != 0)
            return -1;
        if (ti.tcpi_bytes_received == again.tcpi_bytes_received &&
            ti.tcpi_state == again.tcpi_state)
            break;
        if (tries == SOCKACCT_TRIES) {
            errno = EAGAIN;
            return -1;
        }
        ti = again;
    }
    state_flags(ti.tcpi_state, out);
    info_counts(&ti, out);
    /* Our FIN is in the sequence space but in no byte count: in tcpi_notsent_bytes only
     * while queued behind the data, the last thing there. */
    uint64_t unsent = ti.tcpi_notsent_bytes;
    out->written = out->payload_out + unsent - (uint64_t)(out->own_fin && unsent > 0);
    out->read = ti.tcpi_bytes_received - (uint64_t)inq - (uint64_t)out->peer_fin;
    out->waiting = (uint64_t)inq;
    return 0;
}

int sockacct_read_accepted(int fd, struct sockacct *out)
{
    return sockacct_read_served(fd, 0, false, out);
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
