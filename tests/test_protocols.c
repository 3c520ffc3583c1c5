/* test_protocols.c: the client over HTTP/1.1, HTTP/2 and TLS through the lab's front
 * (nghttpx, lab/front.c), against the real server.
 *
 * One server (5 updates a second, a 1 s heartbeat) and one front for the whole file, made
 * the way the conductor makes them: a self-signed certificate and a config in a temporary
 * directory, stopped by pid. Each test runs the client for a few seconds and reads its
 * summary.json. What must hold, for every protocol and approach:
 *   - every response in the protocol asked for (an HTTP/1.1 answer to an HTTP/2 request
 *     would be an errors_status), no other error, every user served, nothing missed by a
 *     push approach;
 *   - bytes_check "ok" only where the split is the wire (plain HTTP/1.1, through the front
 *     too), "decoded" under TLS and HTTP/2, and total_bytes then the kernel's window
 *     count; under plain HTTP/1.1 the kernel's window count equals the split to the byte
 *     (clients/wire.c against clients/report.c: two independent ways to the same bytes).
 * And what the protocols are for:
 *   - HPACK (RFC 7541): under h2c, a short poll's request with the browser's headers
 *     costs a small fraction of its HTTP/1.1 size on the wire, after the first;
 *   - TLS adds bytes: the same polling over https1 moves more than its split;
 *   - users_per_connection: 20 users in groups of 10 share 2 HTTP/2 connections, while
 *     over HTTP/1.1 a group gets at most 6, so 8 of 20 SSE users are never served (the
 *     browser's six-connection limit, RFC 9112 section 9.4 leaving the number open).
 * The capture also holds the client's HPACK figure (clients/wire.h: the HEADERS blocks
 * it derives from its counts) against the HEADERS frames tshark decodes, to the byte.
 * The front is started the conductor's way, so these tests also check lab/front.c: a
 * missing program is named with its package.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_harness.h"
#include "front_harness.h"
#include "harness.h"

#define CLIENTS     "20"
#define N_CLIENTS   20.0
#define RUN_LIMIT_S 60

static struct front_fixture fx;

static int setup(void **state)
{
    const char *args[] = {"--rate", "5", "--heartbeat", "1s", NULL};
    if (front_harness_start(&fx, args, "test_protocols") != 0)
        return -1;
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    (void)state; /* also after a failed setup, which leaves it NULL */
    front_harness_stop(&fx);
    return 0;
}

static double num(const cJSON *root, const char *field)
{
    char path[128];
    snprintf(path, sizeof(path), "results.%s", field);
    double v = client_harness_num(root, path);
    if (isnan(v))
        fail_msg("summary.json lacks %s", path);
    return v;
}

#define EXPECT_RANGE(root, f, lo, hi)                                                      \
    do {                                                                                   \
        double v_ = num(root, f);                                                          \
        if (!(v_ >= (lo) && v_ <= (hi)))                                                   \
            fail_msg("%s = %.3f, expected in [%.3f, %.3f]", f, v_, (double)(lo),           \
                     (double)(hi));                                                        \
    } while (0)

/* The client over protocol to url, with extra args; exit 0 required. */
static cJSON *run(const char *protocol, const char *url, const char *const *extra,
                  char *dir, size_t dirlen)
{
    const char *args[48];
    size_t n = 0;
    assert_int_equal(client_harness_tempdir(dir, dirlen), 0);
    const char *fixed[] = {"--server",    url,         "--protocol", protocol, "--cacert",
                           fx.front.cert, "--clients", CLIENTS,      "--out",  dir,
                           "--duration",  "2s",        "--warmup",   "1s"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        args[n++] = fixed[i];
    for (size_t i = 0; extra[i] && n < 47; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    int rc = client_harness_run(dir, args, RUN_LIMIT_S);
    if (rc != 0) {
        char *err = client_harness_slurp(dir, "stderr.txt");
        char *log = client_harness_slurp(fx.dir, "nghttpx-access.log");
        const char *last = log ? log + strlen(log) : NULL;
        for (int lines = 0; last && last > log && lines < 4; lines += *--last == '\n')
            ;
        fail_msg("%s: client exited %d: %s; the front's last requests: %s", protocol, rc,
                 err ? err : "(no stderr)", last ? last : "(no log)");
    }
    cJSON *root = client_harness_summary(dir);
    assert_non_null(root);
    return root;
}

/* What every healthy run shows, whatever its protocol. */
static void check_common(const cJSON *root, const char *protocol)
{
    assert_string_equal(client_harness_str(root, "results.protocol"), protocol);
    EXPECT_RANGE(root, "errors_connect", 0, 0);
    EXPECT_RANGE(root, "errors_timeout", 0, 0);
    EXPECT_RANGE(root, "errors_status", 0, 0); /* also: every answer in its version */
    EXPECT_RANGE(root, "errors_parse", 0, 0);
    EXPECT_RANGE(root, "errors_io", 0, 0);
    EXPECT_RANGE(root, "users_served", N_CLIENTS, N_CLIENTS);
    double wire = num(root, "wire_bytes_sent") + num(root, "wire_bytes_received");
    if (strcmp(protocol, "http1") == 0) {
        assert_string_equal(client_harness_str(root, "results.bytes_check"), "ok");
        /* the kernel's window count and the split: the same bytes, two ways, but for
         * the window's two edges: the kernel's is drawn at a loop turn, the split's per
         * request by when it started (a request started just before the window may
         * leave just after it on a busy machine), so each user may have one exchange on
         * the other side of each edge. (On a quiet machine they agree to the byte.) */
        double edge = 2 * N_CLIENTS * num(root, "wire_bytes_per_request_run");
        if (fabs(wire - num(root, "split_bytes")) > edge)
            fail_msg("http1: the kernel's window bytes %.0f, the split's %.0f (more apart "
                     "than %.0f, an exchange per user at each edge)",
                     wire, num(root, "split_bytes"), edge);
    } else {
        assert_string_equal(client_harness_str(root, "results.bytes_check"), "decoded");
    }
    /* every connection's setup measured: over TLS a TLS 1.3 handshake with the front's one
     * P-256 certificate (a ~500 B certificate, key shares, finished messages and the
     * session tickets: docs/MODELS.md measured 1.4-1.5 kB), nothing before the first
     * request of a plain connection (h2c's preface leaves with it) */
    double setups = num(root, "conn_setups_run"), setup = num(root, "conn_setup_bytes_run");
    EXPECT_RANGE(root, "conn_setups_run", num(root, "connections_opened_run"),
                 num(root, "connections_opened_run"));
    bool tls = strcmp(protocol, "https1") == 0 || strcmp(protocol, "h2") == 0;
    if (tls ? !(setup / setups > 1000 && setup / setups < 2500) : setup != 0)
        fail_msg("%s: %.0f setup bytes over %.0f connections", protocol, setup, setups);
    if (wire != num(root, "total_bytes"))
        fail_msg("%s: total_bytes %.0f, the wire's %.0f", protocol,
                 num(root, "total_bytes"), wire);
    assert_true(wire > 0);
}

static void check_push(const char *protocol, const char *url, const char *approach)
{
    char dir[64];
    const char *extra[] = {"--approach", approach, NULL};
    cJSON *root = run(protocol, url, extra, dir, sizeof(dir));
    check_common(root, protocol);
    EXPECT_RANGE(root, "missed", 0, 0);
    EXPECT_RANGE(root, "duplicates", 0, 0);
    EXPECT_RANGE(root, "connections_opened_run", N_CLIENTS, N_CLIENTS);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

static void test_sse_every_protocol(void **state)
{
    struct front_fixture *f = *state;
    check_push("http1", f->plain, "sse");
    check_push("https1", f->tls, "sse");
    check_push("h2c", f->plain, "sse");
    check_push("h2", f->tls, "sse");
}

static void test_long_every_protocol(void **state)
{
    struct front_fixture *f = *state;
    check_push("http1", f->plain, "long");
    check_push("https1", f->tls, "long");
    check_push("h2c", f->plain, "long");
    check_push("h2", f->tls, "long");
}

/* Short polling with the browser's headers: the request's wire bytes per request. */
static double poll_request_wire(const char *protocol, const char *url, double *split)
{
    char dir[64];
    const char *extra[] = {"--approach", "short",   "--interval", "250ms",
                           "--headers",  "browser", NULL};
    cJSON *root = run(protocol, url, extra, dir, sizeof(dir));
    check_common(root, protocol);
    double requests = num(root, "requests");
    /* 2 s at 4 a second is 8 a user; a loaded machine polls late, and the figures below
     * are means per request, so two a user are enough */
    assert_true(requests >= 2 * N_CLIENTS);
    double wire = num(root, "wire_bytes_sent") / requests;
    *split = num(root, "req_header_bytes") / requests;
    cJSON_Delete(root);
    client_harness_rmdir(dir);
    return wire;
}

static void test_hpack_and_tls(void **state)
{
    struct front_fixture *f = *state;
    double split1, split2c, splits, split2;
    double h1 = poll_request_wire("http1", f->plain, &split1);
    double h2c = poll_request_wire("h2c", f->plain, &split2c);
    double tls1 = poll_request_wire("https1", f->tls, &splits);
    double h2 = poll_request_wire("h2", f->tls, &split2);
    /* HTTP/1.1: the request head is what goes out (GETs have no body) */
    if (fabs(h1 - split1) > 0.5)
        fail_msg("http1: %.1f B sent per request, head %.1f B", h1, split1);
    /* HPACK: after the first request a repeated browser header block is a few dozen
     * bytes (indexed fields, RFC 7541 section 6.1), against its 400-odd decoded bytes */
    if (!(h2c < 0.25 * split2c))
        fail_msg("h2c: %.1f B on the wire per request, decoded head %.1f B", h2c, split2c);
    /* TLS: records cost bytes (and the handshake is in the window's first requests
     * only when a connection opened in it: here none did) */
    if (!(tls1 > h1))
        fail_msg("https1: %.1f B per request, not above http1's %.1f B", tls1, h1);
    if (!(h2 < 0.5 * tls1))
        fail_msg("h2: %.1f B per request, not below half of https1's %.1f B", h2, tls1);
}

static void test_users_share_connections(void **state)
{
    struct front_fixture *f = *state;
    char dir[64];
    const char *extra[] = {"--approach", "sse", "--users-per-connection", "10", NULL};
    cJSON *root = run("h2", f->tls, extra, dir, sizeof(dir));
    check_common(root, "h2");
    EXPECT_RANGE(root, "connections_opened_run", 2, 2); /* two groups, one each */
    EXPECT_RANGE(root, "missed", 0, 0);
    cJSON_Delete(root);
    client_harness_rmdir(dir);

    /* HTTP/1.1: six streams per group of ten open; the other four wait for good */
    root = run("http1", f->plain, extra, dir, sizeof(dir));
    EXPECT_RANGE(root, "connections_opened_run", 12, 12);
    EXPECT_RANGE(root, "users_served", 12, 12);
    cJSON_Delete(root);
    client_harness_rmdir(dir);
}

/* ---- an independent observer: a packet capture ---------------------------------- */

/* tshark capturing loopback TCP on port into pcap; 0 once it says it captures. */
static int capture_start(struct proc *p, const char *pcap, unsigned port, const char *log)
{
    char filter[64], why[256];
    snprintf(filter, sizeof(filter), "tcp port %u", port);
    const char *argv[] = {"/usr/bin/tshark", "-i", "lo", "-f", filter, "-w", pcap, NULL};
    struct proc_spec spec = {.argv = argv,
                             .name = "tshark",
                             .out = PROC_DEVNULL,
                             .err = PROC_FILE,
                             .err_path = log};
    proc_init(p);
    if (proc_start(p, &spec, why, sizeof(why)) != 0)
        return -1;
    for (int i = 0; i < 200; i++) { /* 10 s */
        FILE *f = fopen(log, "r");
        char line[512];
        while (f && fgets(line, sizeof(line), f))
            if (strstr(line, "Capturing on")) {
                fclose(f);
                return 0;
            }
        if (f)
            fclose(f);
        if (proc_poll(p))
            return -1;
        usleep(50 * 1000);
    }
    return -1;
}

/* `tshark -r pcap ARGS...` run to its end, its stdout into out (the caller frees). */
static char *tshark_read(const char *dir, const char *const *args)
{
    char path[128], why[256];
    snprintf(path, sizeof(path), "%s/tshark.out", dir);
    const char *argv[24] = {"/usr/bin/tshark"};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 23; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct proc p;
    proc_init(&p);
    struct proc_spec spec = {.argv = argv,
                             .name = "tshark -r",
                             .out = PROC_FILE,
                             .out_path = path,
                             .err = PROC_DEVNULL};
    if (proc_start(&p, &spec, why, sizeof(why)) != 0)
        fail_msg("%s", why);
    if (!proc_wait(&p, 60000)) {
        proc_stop(&p, 1000);
        fail_msg("tshark -r took more than 60 s");
    }
    assert_int_equal(proc_exit_code(&p), 0);
    char *text = client_harness_slurp(dir, "tshark.out");
    assert_non_null(text);
    return text;
}

/* The TCP payload bytes the capture saw towards port (up) and from it (down), each byte
 * once: a retransmitted segment (rare on loopback, but a busy machine makes them) is
 * left out, as the kernel's counts hold each byte once. Two passes, so that tshark's
 * analysis has seen the original before it judges the copy. */
static void capture_bytes(const char *dir, const char *pcap, unsigned port, double *up,
                          double *down)
{
    const char *args[] = {"-r",
                          pcap,
                          "-2",
                          "-Y",
                          "!tcp.analysis.retransmission && "
                          "!tcp.analysis.spurious_retransmission",
                          "-T",
                          "fields",
                          "-e",
                          "tcp.dstport",
                          "-e",
                          "tcp.len",
                          NULL};
    char *text = tshark_read(dir, args);
    *up = *down = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned dst = 0;
        double len = 0;
        if (sscanf(line, "%u %lf", &dst, &len) == 2)
            *(dst == port ? up : down) += len;
    }
    free(text);
}

/* The HEADERS frames' payload the front sent on the users' connections, as tshark
 * decodes the capture's HTTP/2 (through TLS with the key log): the connections that
 * carried a stream (a DATA frame without END_STREAM: the observer's SSE) are left out,
 * since the client's figure is its users'. */
#define CAPTURE_MAX_CONNS 4096
static double capture_headers_bytes(const char *dir, const char *pcap, unsigned port,
                                    const char *keyarg, const char *portarg)
{
    const char *args[] = {"-r", pcap,         "-d", portarg,        "-o", keyarg,
                          "-T", "fields",     "-e", "tcp.stream",   "-e", "tcp.srcport",
                          "-e", "http2.type", "-e", "http2.length", "-e", "http2.flags",
                          NULL};
    char *text = tshark_read(dir, args);
    static double heads[CAPTURE_MAX_CONNS];
    static bool stream[CAPTURE_MAX_CONNS];
    memset(heads, 0, sizeof(heads));
    memset(stream, 0, sizeof(stream));
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char types[256] = "", lens[256] = "", flags[256] = "";
        unsigned conn = 0, src = 0;
        if (sscanf(line, "%u\t%u\t%255[^\t]\t%255[^\t]\t%255s", &conn, &src, types, lens,
                   flags) != 5 ||
            src != port || conn >= CAPTURE_MAX_CONNS)
            continue;
        char *ts = types, *ls = lens, *fs = flags;
        for (;;) {
            long type = strtol(ts, &ts, 10), len = strtol(ls, &ls, 10),
                 flag = strtol(fs, &fs, 16);
            if (type == 1)
                heads[conn] += (double)len;
            if (type == 0 && !(flag & 1))
                stream[conn] = true;
            if (*ts != ',' || *ls != ',' || *fs != ',')
                break;
            ts++, ls++, fs++;
        }
    }
    free(text);
    double total = 0;
    for (size_t i = 0; i < CAPTURE_MAX_CONNS; i++)
        total += stream[i] ? 0 : heads[i];
    return total;
}

/* Lines of text that contain needle. */
static int count_lines(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Run the client over protocol while tshark captures the front's port; the client's
 * kernel counts (users and observer, whole run) must equal the capture's TCP payload
 * both ways, to the byte, and what the capture decodes must be the requests the client
 * counted. TLS is decrypted with the key log libcurl writes when SSLKEYLOGFILE is set. */
static bool captured_once(const char *protocol, const char *url, unsigned port, bool last);

/* tshark can lose packets (its capture starts asynchronously and its buffer can fill), so
 * a capture that disagrees is taken once more; a second disagreement fails. */
static void captured(const char *protocol, const char *url, unsigned port)
{
    if (!captured_once(protocol, url, port, false))
        (void)captured_once(protocol, url, port, true);
}

static bool captured_once(const char *protocol, const char *url, unsigned port, bool last)
{
    char dir[64], pcap[128], log[128], keys[128];
    struct proc cap;
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    snprintf(pcap, sizeof(pcap), "%s/capture.pcapng", dir);
    snprintf(log, sizeof(log), "%s/tshark.err", dir);
    snprintf(keys, sizeof(keys), "%s/keys.log", dir);
    if (capture_start(&cap, pcap, port, log) != 0) {
        proc_stop(&cap, 2000);
        fail_msg("tshark did not start capturing (see %s)", log);
    }
    setenv("SSLKEYLOGFILE", keys, 1);
    char rdir[64];
    const char *extra[] = {"--approach", "short",   "--interval", "250ms",
                           "--headers",  "browser", NULL};
    cJSON *root = run(protocol, url, extra, rdir, sizeof(rdir));
    unsetenv("SSLKEYLOGFILE");
    usleep(500 * 1000); /* the last segments into the capture */
    proc_stop(&cap, 10000);
    check_common(root, protocol);
    double sent = client_harness_num(root, "run_totals.kernel_bytes_sent") +
                  client_harness_num(root, "observer_totals.kernel_bytes_sent");
    double received = client_harness_num(root, "run_totals.kernel_bytes_received") +
                      client_harness_num(root, "observer_totals.kernel_bytes_received");
    double requests = client_harness_num(root, "run_totals.requests");
    double up, down;
    capture_bytes(dir, pcap, port, &up, &down);
    /* Over TLS the front answers the close_notify alert libcurl sends when it closes a
     * connection with one of its own (RFC 8446 section 6.1), which arrives after the
     * socket is closed: the capture sees it, the client's count cannot. A TLS 1.3 alert
     * record is 24 B: 5 of header, 2 of alert, 1 of inner type, 16 of AEAD tag. */
    double conns = client_harness_num(root, "run_totals.connections_opened") +
                   client_harness_num(root, "observer_totals.connections_opened");
    double late = strcmp(protocol, "h2c") == 0 ? 0 : 24 * conns;
    if ((up != sent || down != received + late) && !last) {
        print_message("%s: the capture saw %.0f B up and %.0f B down, the client's kernel "
                      "counts %.0f and %.0f (+ %.0f): capturing once more\n",
                      protocol, up, down, sent, received, late);
        cJSON_Delete(root);
        client_harness_rmdir(rdir);
        client_harness_rmdir(dir);
        return false;
    }
    if (up != sent || down != received + late)
        fail_msg("%s: the capture saw %.0f B up and %.0f B down, the client's kernel "
                 "counts say %.0f and %.0f (+ %.0f B of closing alerts for %.0f "
                 "connections)",
                 protocol, up, down, sent, received, late, conns);
    char portarg[64], keyarg[160];
    snprintf(portarg, sizeof(portarg), "tcp.port==%u,%s", port,
             strcmp(protocol, "h2c") == 0 ? "http2" : "tls");
    snprintf(keyarg, sizeof(keyarg), "tls.keylog_file:%s", keys);
    const char *args[] = {
        "-r", pcap,
        "-d", portarg,
        "-o", keyarg,
        "-T", "fields",
        "-e", strcmp(protocol, "https1") == 0 ? "http.request.uri" : "http2.header.value",
        NULL};
    char *text = tshark_read(dir, args);
    /* every poll the client counted, decoded from the wire (HPACK included), but for
     * those the run's end caught between their start and their first byte on the wire
     * (at most one per user): a request counts when its transfer starts */
    int polls = count_lines(text, "/poll");
    if (polls > (int)requests || polls < (int)requests - (int)N_CLIENTS)
        fail_msg("%s: the capture decodes %d requests for /poll, the client counted %.0f",
                 protocol, polls, requests);
    free(text);
    /* HPACK: the client's HEADERS bytes down (derived from its counts, clients/wire.h)
     * are the frames the capture decodes, to the byte */
    if (strcmp(protocol, "https1") != 0) {
        double block = client_harness_num(root, "results.hpack_resp_block_bytes_run");
        double seen = capture_headers_bytes(dir, pcap, port, keyarg, portarg);
        if (!(block > 0) || block != seen)
            fail_msg("%s: the client derived %.0f B of HEADERS blocks down, the capture "
                     "decodes %.0f",
                     protocol, block, seen);
    }
    cJSON_Delete(root);
    client_harness_rmdir(rdir);
    client_harness_rmdir(dir);
    return true;
}

static void test_a_capture_agrees(void **state)
{
    struct front_fixture *f = *state;
    captured("h2c", f->plain, f->front.plain_port);
    captured("https1", f->tls, f->front.tls_port);
    captured("h2", f->tls, f->front.tls_port);
}

static void test_protocol_flags(void **state)
{
    struct front_fixture *f = *state;
    char dir[64];
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    struct {
        const char *const args[10];
        const char *says;
    } bad[] = {
        {{"--server", f->plain, "--protocol", "h3", NULL}, "--protocol"},
        {{"--server", f->plain, "--protocol", "h2", "--cacert", f->front.cert, NULL},
         "https://"},
        {{"--server", f->tls, "--protocol", "https1", NULL}, "--cacert"},
        {{"--server", f->plain, "--users-per-connection", "0", NULL},
         "--users-per-connection"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(client_harness_run(dir, bad[i].args, RUN_LIMIT_S), 2);
        char *err = client_harness_slurp(dir, "stderr.txt");
        assert_non_null(err);
        if (!strstr(err, bad[i].says))
            fail_msg("case %zu: stderr \"%s\" does not name %s", i, err, bad[i].says);
        free(err);
    }
    client_harness_rmdir(dir);
}

/* A front that cannot start is reported with its log's last line, at once. */
static void test_failed_front_quotes_its_log(void **state)
{
    (void)state;
    char dir[64], err[1024], path[128];
    struct front f;
    struct runargs argv;
    runargs_init(&argv);
    assert_int_equal(client_harness_tempdir(dir, sizeof(dir)), 0);
    assert_int_equal(front_prepare(&f, dir, "127.0.0.1:9", err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/nghttpx.conf", dir);
    FILE *c = fopen(path, "a");
    assert_non_null(c);
    fputs("no-such-option=1\n", c);
    fclose(c);
    assert_int_equal(front_start(&f, &argv, 10000, err, sizeof(err)), -1);
    proc_stop(&f.proc, 2000);
    if (!strstr(err, "the front (nghttpx) exited with status") ||
        !strstr(err, "Failed to load configuration"))
        fail_msg("the message does not say how nghttpx ended and why: %s", err);
    runargs_free(&argv);
    client_harness_rmdir(dir);
}

static void test_missing_program_named(void **state)
{
    (void)state;
    char path[256], err[512];
    const char *saved = getenv("PATH");
    char *copy = saved ? strdup(saved) : NULL;
    setenv("PATH", "/nonexistent", 1);
    /* nghttpx lives in /usr/sbin, which front_find always looks in: ask for a program
     * that is nowhere */
    int rc = front_find("nghttpx-not-here", path, sizeof(path), err, sizeof(err));
    if (copy) {
        setenv("PATH", copy, 1);
        free(copy);
    }
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "nghttpx-not-here is not installed"));
    assert_int_equal(front_find("nghttpx", path, sizeof(path), err, sizeof(err)), 0);
    assert_non_null(strstr(path, "nghttpx"));
    assert_int_equal(front_find("nghttpx-not-here", path, sizeof(path), err, sizeof(err)),
                     -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_every_protocol),
        cmocka_unit_test(test_long_every_protocol),
        cmocka_unit_test(test_hpack_and_tls),
        cmocka_unit_test(test_users_share_connections),
        cmocka_unit_test(test_a_capture_agrees),
        cmocka_unit_test(test_protocol_flags),
        cmocka_unit_test(test_missing_program_named),
        cmocka_unit_test(test_failed_front_quotes_its_log),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
