/* front_harness.c: the lab's server behind the lab's front, for the tests (see
 * front_harness.h).
 */
#include "front_harness.h"

#include <stdio.h>

#include "client_harness.h"
#include "proc.h"

int front_harness_start(struct front_fixture *fx, const char *const *server_args,
                        const char *who)
{
    char backend[64], err[1024];
    runargs_init(&fx->argv);
    if (harness_server_start(&fx->srv, server_args) != 0 ||
        client_harness_tempdir(fx->dir, sizeof(fx->dir)) != 0) {
        fprintf(stderr, "%s: the server or the front's directory did not start\n", who);
        return -1;
    }
    snprintf(backend, sizeof(backend), "127.0.0.1:%u", fx->srv.port);
    if (front_prepare(&fx->front, fx->dir, backend, err, sizeof(err)) != 0 ||
        front_start(&fx->front, &fx->argv, 10000, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", who, err);
        return -1;
    }
    snprintf(fx->plain, sizeof(fx->plain), "http://127.0.0.1:%u", fx->front.plain_port);
    snprintf(fx->tls, sizeof(fx->tls), "https://127.0.0.1:%u", fx->front.tls_port);
    return 0;
}

void front_harness_stop(struct front_fixture *fx)
{
    if (fx->front.proc.pid > 0)
        proc_stop(&fx->front.proc, 5000);
    if (fx->srv.pid > 0)
        harness_server_stop(&fx->srv);
    runargs_free(&fx->argv);
    if (fx->dir[0])
        client_harness_rmdir(fx->dir);
}
