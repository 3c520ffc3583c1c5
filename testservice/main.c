/* main.c: pushpull-sse-testservice, the test service through which the
 * public SSE client contract suite (launchdarkly/sse-contract-tests) drives the SSE client
 * the lab measures with: clients/eventsource.c (connect, reconnect, resume, the verdict
 * on each response) over common/sse_parser.c.
 *
 * Parts: libmicrohttpd serves the suite's control API (sse_ts_api.c); one worker thread
 * (sse_ts_worker.c) runs every SSE client (sse_ts_stream.c) and its numbered callbacks
 * (sse_ts_outbox.c) on a libcurl multi handle; and this file reads the flags, starts
 * them, prints "listening on http://ADDR:PORT" as its first stdout line and waits for
 * SIGINT or SIGTERM. Signals are blocked in every thread and taken here with sigwait, so
 * shutdown is ordinary code: the API stops first (no new commands), then the worker (every
 * stream dropped, nothing leaked).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sse_ts_api.h"
#include "sse_ts_worker.h"
#include "flags.h"
#include "units.h"

static const char usage_text[] =
    "usage: pushpull-sse-testservice [options]\n"
    "\n"
    "The test service of the SSE client contract suite (launchdarkly/sse-contract-tests):\n"
    "GET / lists capabilities, POST / starts an SSE client on streamUrl that POSTs what "
    "it\n"
    "sees to callbackUrl/1, /2, ..., POST /streams/K {\"command\":\"restart\"} reconnects "
    "it,\n"
    "DELETE /streams/K stops it, DELETE / stops the service.\n"
    "\n"
    "  --bind ADDR   listen address, loopback only (default 127.0.0.1)\n"
    "  --port N      TCP port, 0 picks a free one (default 8000)\n"
    "  -h, --help    this text\n"
    "\n"
    "The first line on stdout is \"listening on http://ADDR:PORT\". SIGINT or SIGTERM "
    "stops\n"
    "it.\n";

struct options {
    char bind[INET_ADDRSTRLEN]; /* listen address */
    unsigned port;              /* listen port, 0 = any free one */
};

static void parse_args(int argc, char **argv, struct options *o)
{
    enum { O_BIND = 256, O_PORT };
    static const struct option opts[] = {{"bind", required_argument, NULL, O_BIND},
                                         {"port", required_argument, NULL, O_PORT},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    snprintf(o->bind, sizeof(o->bind), "%s", "127.0.0.1");
    o->port = 8000;
    int c;
    flags_program("pushpull-sse-testservice"); /* one-line messages only */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_BIND: {
            struct in_addr a;
            if (strlen(optarg) >= sizeof(o->bind) || inet_pton(AF_INET, optarg, &a) != 1 ||
                (ntohl(a.s_addr) >> 24) != 127)
                flags_bad_value("bind", "a loopback IPv4 address such as 127.0.0.1",
                                optarg);
            snprintf(o->bind, sizeof(o->bind), "%s", optarg);
            break;
        }
        case O_PORT:
            o->port = (unsigned)flags_count("port", optarg, 0, 65535);
            break;
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        default: /* ':' a value is missing, '?' an unknown option */
            flags_getopt_error(c, argv);
        }
    }
    flags_no_operands(argc, argv);
}

int main(int argc, char **argv)
{
    struct options o;
    parse_args(argc, argv, &o);

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* inherited by every thread started below */
    signal(SIGPIPE, SIG_IGN);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("pushpull-sse-testservice: curl_global_init failed\n", stderr);
        return 1;
    }
    char err[256];
    int status = 1;
    struct sse_ts_api *api = NULL;
    struct sse_ts_worker *w = sse_ts_worker_start(err, sizeof(err));
    if (!w) {
        fprintf(stderr, "pushpull-sse-testservice: %s\n", err);
        goto end;
    }
    api = sse_ts_api_start(o.bind, o.port, w, err, sizeof(err));
    if (!api) {
        fprintf(stderr, "pushpull-sse-testservice: %s\n", err);
        goto end;
    }
    printf("listening on http://%s:%u\n", o.bind, sse_ts_api_port(api));
    fflush(stdout);

    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "pushpull-sse-testservice: %s, stopping\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
end:
    sse_ts_api_stop(api); /* first: no handler may queue a command to a stopped worker */
    sse_ts_worker_stop(w);
    curl_global_cleanup();
    return status;
}
