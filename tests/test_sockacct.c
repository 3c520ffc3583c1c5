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

/* Every read of the account equals what was written, while ACKs keep arriving. */
static void written_is_exact_while_acks_arrive(void **state)
{
    (void)state;
    enum { READS = 200000 };
    int a, b;
    tcp_pair(&a, &b);
    struct sockacct base;
    assert_int_equal(sockacct_read(a, &base), 0);
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
        assert_int_equal(sockacct_read(a, &now), 0);
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
    assert_int_equal(sockacct_read(a, &half), 0); /* CLOSE-WAIT */
    assert_int_equal(half.peer_fin, 1);
    assert_int_equal(half.read - base.read, 5);
    assert_int_equal(half.written - base.written, 2);
    shutdown(a, SHUT_WR); /* ours */
    assert_int_equal(read(b, buf, sizeof(buf)), 2);
    struct sockacct now;
    for (int i = 0; i < 100; i++) { /* until our FIN is acked: LAST-ACK, then CLOSED */
        assert_int_equal(sockacct_read(a, &now), 0);
        if (now.closed)
            break;
        usleep(1000);
    }
    assert_true(now.closed);
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
        cmocka_unit_test(fins_are_not_bytes),
    };
    return cmocka_run_group_tests_name("sockacct", tests, NULL, NULL);
}
