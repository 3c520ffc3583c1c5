/* test_sockacct.c: the kernel's byte counts for a socket (common/sockacct.c), held against
 * what the test itself wrote and read on a loopback connection.
 *
 * `written` is acked bytes plus the send queue, read in separate calls; an ACK that lands
 * between them used to hide whole writes (issue 13: 3,389 to 6,218 under-reads in 200,000
 * on loopback). Here one thread writes while a second drains the other end as fast as it
 * can, so ACKs arrive all the time, and every read of the account must equal exactly what
 * was written so far.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sockacct.h"

/* A connected pair over loopback TCP: *a is the accepted end, *b the connecting one. */
static void tcp_pair(int *a, int *b)
{
    int l = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(l >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(listen(l, 1), 0);
    socklen_t len = sizeof(sin);
    assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
    *b = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(connect(*b, (struct sockaddr *)&sin, sizeof(sin)), 0);
    *a = accept(l, NULL, NULL);
    assert_true(*a >= 0);
    close(l);
}

struct drain {
    int fd;
    atomic_bool stop;
};

static void *drain_main(void *arg)
{
    struct drain *d = arg;
    char buf[65536];
    while (!atomic_load(&d->stop)) {
        if (read(d->fd, buf, sizeof(buf)) <= 0)
            break;
    }
    return NULL;
}

typedef int (*account_fn)(int fd, struct sockacct *out);

/* Every read of the account equals what was written, while ACKs keep arriving. */
static void written_exact_while_acks_arrive(account_fn account)
{
    enum { READS = 200000 };
    int a, b;
    tcp_pair(&a, &b);
    struct sockacct base;
    assert_int_equal(account(a, &base), 0);
    struct drain d = {.fd = b};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, drain_main, &d), 0);
    char chunk[1500];
    memset(chunk, 'w', sizeof(chunk));
    uint64_t wrote = 0;
    int wrong = 0;
    uint64_t first_wrong = 0;
    for (int i = 0; i < READS; i++) {
        if (i % 4 == 0) {
            ssize_t n = write(a, chunk, 1 + (size_t)(i % (int)sizeof(chunk)));
            assert_true(n > 0);
            wrote += (uint64_t)n;
        }
        struct sockacct now;
        assert_int_equal(account(a, &now), 0);
        if (now.written - base.written != wrote && wrong++ == 0)
            first_wrong = now.written - base.written;
    }
    atomic_store(&d.stop, true);
    shutdown(a, SHUT_WR);
    pthread_join(t, NULL);
    if (wrong > 0)
        fail_msg("%d of %d reads were wrong; the first said %llu of %llu written", wrong,
                 READS, (unsigned long long)first_wrong, (unsigned long long)wrote);
    close(a);
    close(b);
}

static void written_is_exact_while_acks_arrive(void **state)
{
    (void)state;
    written_exact_while_acks_arrive(sockacct_read);
}

/* The accepting side's reading, with `written` from TCP_INFO alone, under the same ACKs. */
static void accepted_written_is_exact_while_acks_arrive(void **state)
{
    (void)state;
    written_exact_while_acks_arrive(sockacct_read_accepted);
}

struct flood {
    int fd;
    atomic_bool stop;
};

/* Writes into the peer's end as fast as it can, until told to stop (flood_stop). */
static void *flood_main(void *arg)
{
    struct flood *f = arg;
    char buf[1000];
    memset(buf, 'r', sizeof(buf));
    while (!atomic_load(&f->stop)) {
        if (send(f->fd, buf, 1 + (size_t)(rand() % (int)sizeof(buf)), MSG_NOSIGNAL) <= 0)
            break;
    }
    return NULL;
}

/* Stop the flood and wait for it: a write blocked on a full window is woken by shutting
 * its own side (EPIPE), not by anything the reader does. */
static void flood_stop(struct flood *f, pthread_t t)
{
    atomic_store(&f->stop, true);
    shutdown(f->fd, SHUT_WR);
    pthread_join(t, NULL);
}

/* Every reading of `read` equals what was read so far, while the peer's bytes keep
 * arriving (between TCP_INFO and SIOCINQ too), with either reading. */
static void read_is_exact_while_data_arrives(void **state)
{
    (void)state;
    enum { READS = 100000 };
    int a, b;
    tcp_pair(&a, &b);
    struct sockacct base, other;
    assert_int_equal(sockacct_read(a, &base), 0);
    assert_int_equal(sockacct_read_accepted(a, &other), 0);
    assert_int_equal(other.read, base.read);
    assert_int_equal(other.written, base.written);
    struct flood f = {.fd = b};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, flood_main, &f), 0);
    uint64_t got = 0;
    int wrong = 0;
    char buf[700];
    for (int i = 0; i < READS; i++) {
        if (i % 2 == 0) {
            ssize_t n = read(a, buf, 1 + (size_t)(i % (int)sizeof(buf)));
            assert_true(n > 0);
            got += (uint64_t)n;
        }
        struct sockacct now;
        assert_int_equal((i % 4 < 2 ? sockacct_read_accepted : sockacct_read)(a, &now), 0);
        if (now.read - base.read != got && wrong++ == 0)
            fail_msg("reading %d said %llu of %llu read", i,
                     (unsigned long long)(now.read - base.read), (unsigned long long)got);
    }
    flood_stop(&f, t);
    close(a);
    close(b);
}

/* sockacct_read_served with a floor: every reading equals what was read so far, while
 * the peer's bytes keep arriving (before the reading, so the floor's one-call answer is
 * not there, and between its calls), with the floor at the truth (a server that read
 * just its request) and under it (one that read the next request's start along with it,
 * pipelined). */
static void served_read_is_exact_while_data_arrives(void **state)
{
    (void)state;
    enum { READS = 100000 };
    int a, b;
    tcp_pair(&a, &b);
    struct sockacct base;
    assert_int_equal(sockacct_read(a, &base), 0);
    struct flood f = {.fd = b};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, flood_main, &f), 0);
    uint64_t got = 0;
    char buf[700];
    for (int i = 0; i < READS; i++) {
        ssize_t n = read(a, buf, 1 + (size_t)(i % (int)sizeof(buf)));
        assert_true(n > 0);
        got += (uint64_t)n;
        uint64_t under = (uint64_t)(i % 3) * (uint64_t)n / 2; /* 0, n/2 or n */
        struct sockacct now;
        assert_int_equal(sockacct_read_served(a, base.read + got - under, i % 2, &now), 0);
        if (now.read - base.read != got)
            fail_msg("reading %d (floor %llu under) said %llu of %llu read", i,
                     (unsigned long long)under, (unsigned long long)(now.read - base.read),
                     (unsigned long long)got);
    }
    flood_stop(&f, t);
    close(a);
    close(b);
}

/* Loopback delivers a write before write() returns: after one, its bytes are in the
 * queue. */
static void send_all(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

/* The cases a server meets at a request's end, each read with the floor its parser
 * gives: the request alone (the floor is the count); the next request already waiting;
 * two requests pipelined in one segment and read whole, the floor the first one's (the
 * second was read, not parsed); and the peer's FIN after the request. */
static void request_ends(bool qf)
{
    const char *req = "GET /poll HTTP/1.1\r\nHost: x\r\n\r\n";
    uint64_t len = strlen(req);
    int a, b;
    tcp_pair(&a, &b);
    struct sockacct base, now;
    assert_int_equal(sockacct_read(a, &base), 0);
    char buf[256];
    uint64_t got = 0;

    send_all(b, req);
    assert_int_equal(read(a, buf, sizeof(buf)), (ssize_t)len);
    got += len;
    assert_int_equal(sockacct_read_served(a, base.read + got, qf, &now), 0);
    assert_int_equal(now.read - base.read, got);

    send_all(b, req); /* the next request, already in when the reading starts */
    assert_int_equal(sockacct_read_served(a, base.read + got, qf, &now), 0);
    assert_int_equal(now.read - base.read, got);
    assert_int_equal(now.waiting, len);
    assert_int_equal(read(a, buf, sizeof(buf)), (ssize_t)len);
    got += len;

    char two[256];
    snprintf(two, sizeof(two), "%s%s", req, req);
    send_all(b, two); /* pipelined: both read at once */
    assert_int_equal(read(a, buf, sizeof(buf)), (ssize_t)(2 * len));
    got += 2 * len;
    send_all(b, req); /* and a third waiting */
    assert_int_equal(sockacct_read_served(a, base.read + got - len, qf, &now), 0);
    assert_int_equal(now.read - base.read, got);
    assert_int_equal(sockacct_read_served(a, base.read + got, qf, &now), 0);
    assert_int_equal(now.read - base.read, got);
    assert_int_equal(read(a, buf, sizeof(buf)), (ssize_t)len);
    got += len;
    assert_int_equal(sockacct_read_served(a, base.read + got, qf, &now), 0);
    assert_int_equal(now.waiting, 0);

    shutdown(b, SHUT_WR); /* the FIN is in the count of what arrived, not in read */
    for (int i = 0; i < 100 && !now.peer_fin; i++) {
        assert_int_equal(sockacct_read_served(a, base.read + got, qf, &now), 0);
        if (!now.peer_fin)
            usleep(1000);
    }
    assert_int_equal(now.peer_fin, 1);
    assert_int_equal(now.read - base.read, got);
    assert_int_equal(sockacct_read_served(a, base.read + got - 1, qf, &now), 0);
    assert_int_equal(now.read - base.read, got);
    close(a);
    close(b);
}

static void served_read_at_request_ends(void **state)
{
    (void)state;
    request_ends(false);
}

/* The same, with the queue's size taken before TCP_INFO (the server does when the last
 * reading found the next request waiting). */
static void served_read_queue_first_at_request_ends(void **state)
{
    (void)state;
    request_ends(true);
}

/* Both readings of an accepted socket agree field by field. */
static void assert_readings_agree(int fd)
{
    struct sockacct x, y;
    assert_int_equal(sockacct_read(fd, &x), 0);
    assert_int_equal(sockacct_read_accepted(fd, &y), 0);
    assert_int_equal(y.read, x.read);
    assert_int_equal(y.peer_fin, x.peer_fin);
    assert_int_equal(y.own_fin, x.own_fin);
    assert_int_equal(y.closed, x.closed);
    assert_int_equal(y.payload_out, x.payload_out);
    if (!x.closed)
        assert_int_equal(y.written, x.written);
}

/* The FINs: the peer's is left out of `read` once it has come, ours out of `written`
 * once sent; in state CLOSED, which tells neither, sockacct_closed_fin says whether the
 * peer's came, and payload_out what left. */
static void fins_are_not_bytes(void **state)
{
    (void)state;
    int a, b;
    tcp_pair(&a, &b);
    struct sockacct base;
    assert_int_equal(sockacct_read(a, &base), 0);
    assert_int_equal(write(b, "hello", 5), 5);
    char buf[16];
    assert_int_equal(read(a, buf, sizeof(buf)), 5);
    assert_int_equal(write(a, "hi", 2), 2);
    shutdown(b, SHUT_WR); /* the peer's FIN */
    assert_int_equal(read(a, buf, sizeof(buf)), 0);
    struct sockacct half;
    assert_readings_agree(a);
    assert_int_equal(sockacct_read(a, &half), 0); /* CLOSE-WAIT */
    assert_int_equal(half.peer_fin, 1);
    assert_int_equal(half.read - base.read, 5);
    assert_int_equal(half.written - base.written, 2);
    shutdown(a, SHUT_WR);     /* ours */
    assert_readings_agree(a); /* LAST-ACK, or CLOSED already */
    assert_int_equal(read(b, buf, sizeof(buf)), 2);
    struct sockacct now;
    for (int i = 0; i < 100; i++) { /* until our FIN is acked: LAST-ACK, then CLOSED */
        assert_int_equal(sockacct_read(a, &now), 0);
        if (now.closed)
            break;
        usleep(1000);
    }
    assert_true(now.closed);
    assert_readings_agree(a);
    assert_int_equal(sockacct_closed_fin(a), 1); /* CLOSED does not say; a peek does */
    assert_int_equal(now.read - 1 - base.read, 5);
    assert_int_equal(now.payload_out, 2); /* written is not to be used in CLOSED */
    close(a);
    close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(written_is_exact_while_acks_arrive),
        cmocka_unit_test(accepted_written_is_exact_while_acks_arrive),
        cmocka_unit_test(read_is_exact_while_data_arrives),
        cmocka_unit_test(served_read_is_exact_while_data_arrives),
        cmocka_unit_test(served_read_at_request_ends),
        cmocka_unit_test(served_read_queue_first_at_request_ends),
        cmocka_unit_test(fins_are_not_bytes),
    };
    return cmocka_run_group_tests_name("sockacct", tests, NULL, NULL);
}
