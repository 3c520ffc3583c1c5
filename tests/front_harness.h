/* front_harness.h: the lab's server behind the lab's front (lab/front.c: nghttpx with its
 * own self-signed certificate), started by a test as a run starts them.
 *
 * The server is the ASan build ($PUSHPULL_SERVER, harness.h) with the test's flags; the
 * front is prepared in a temporary directory of the fixture's own and listens on two
 * loopback ports, plain (http1-front, h2c) and TLS (https1, h2). Both are stopped by pid
 * and the directory removed by front_harness_stop, also after a failed start.
 */
#ifndef PUSHPULL_FRONT_HARNESS_H
#define PUSHPULL_FRONT_HARNESS_H

#include "harness.h"
#include "lab/front.h"
#include "lab/runargs.h"

struct front_fixture {
    struct harness_server srv;
    struct front front;
    struct runargs argv;     /* nghttpx's command line (the front's record) */
    char dir[64];            /* the front's directory: config, certificate, logs */
    char plain[64], tls[64]; /* the front's two URLs */
};

/* Start the server with server_args (NULL-terminated) and the front before it. 0, or -1
 * with one line on stderr beginning with who. */
int front_harness_start(struct front_fixture *fx, const char *const *server_args,
                        const char *who);
/* Stop both and remove the directory (safe after a failed or no start of a zeroed fx). */
void front_harness_stop(struct front_fixture *fx);

#endif
