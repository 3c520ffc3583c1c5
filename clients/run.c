/* run.c: set up users and the observer, drive the loop through warmup, window and drain,
 * then collect the counts (see run.h for the timeline).
 *
 * Ground truth: one extra SSE connection, the observer, follows the feed from
 * Last-Event-ID: 0 (the server's whole buffer, then everything live; again after an
 * attempt that found the server down, so a restarted server's new feed is seen from its
 * first update; a stream merely cut resumes from its id: sse.c). It is a user with its
 * own counters (no activity series), so its traffic never mixes with the users', and its
 * only job is to deliver the publish stamp of every update (freshness_published), which
 * missed-update and staleness figures need even for users that never saw an update. It
 * is one connection among N+1, so it barely loads the server; its stamps are the
 * server's own, so its receipt delay does not matter.
 *
 * Messages upstream (--send-rate): every user gets a schedule of messages (upstream.h,
 * starting half way through the warmup, when the users' feeds are open). A WebSocket user
 * sends them on its own connection; for the other techniques the run adds one sender per
 * user (publish.c), a user of its own with the ids after the observer's, and the senders'
 * counts go to a counters set of their own (run_results.upstream). The loop's ids are
 * the users 0..N-1, the observer N, then the senders N+1..2N.
 */
#include "run.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "clock.h"
#include "hist.h"
#include "loop.h"
#include "rng.h"
#include "user.h"
#include "ws_tls.h"

#define PROGRESS_EVERY_NS NS_PER_S

struct run {
    struct run_results res;          /* what the report reads */
    const struct client_config *cfg; /* settings (borrowed) */
    struct header_profile profile;   /* owned */
    struct freshness fresh;          /* owned */
    struct activity activity;        /* owned; res.users.activity points here */
    struct loop *loop;               /* owned */
    struct user *users;         /* cfg->clients users, the observer, the senders (owned) */
    uint32_t nusers;            /* users initialised (for cleanup) */
    uint32_t nids;              /* users, observer and senders: the loop's ids */
    struct upstream_env up_env; /* the messages' settings; its rtt histogram owned */
    struct user_env env;        /* shared by the users */
    uint32_t *conns_open;       /* env.conns_open (owned) */
    struct wire wire;           /* env.wire: the window's kernel bytes */
    bool ws_tls;                /* ws_tls_init was called: ws_tls_free at the end */
    char host_line[300];        /* "Host: ..." */
    char base_path[256];        /* path prefix of --server, without a trailing / */
    unsigned port;              /* server port */
    bool progress;              /* stderr is a terminal */
};

/* ---- loop callbacks ----------------------------------------------------------------- */

static void on_done(void *ctx, CURL *easy, CURLcode result)
{
    (void)ctx;
    struct user *u = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&u);
    if (u)
        user_on_done(u, result);
}

static void on_timer(void *ctx, uint32_t id)
{
    struct run *r = ctx;
    if (id < r->nusers)
        user_on_timer(&r->users[id]);
}

static void on_io(void *ctx, uint32_t id, uint32_t events)
{
    struct run *r = ctx;
    if (id < r->nusers)
        user_on_io(&r->users[id], events);
}

/* ---- setup -------------------------------------------------------------------------- */

/* Split --server into address, port, Host line and path prefix. */
static int parse_server(struct run *r, char *err, size_t errlen)
{
    int rc = -1;
    char *host = NULL, *port = NULL, *path = NULL;
    struct addrinfo *ai = NULL;
    CURLU *h = curl_url();
    if (!h) {
        snprintf(err, errlen, "curl_url: out of memory");
        return -1;
    }
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, r->cfg->server, 0);
    if (uc != CURLUE_OK) {
        snprintf(err, errlen, "--server %s: curl_url_set: %s", r->cfg->server,
                 curl_url_strerror(uc));
        goto end;
    }
    curl_url_get(h, CURLUPART_HOST, &host, 0);
    curl_url_get(h, CURLUPART_PORT, &port, 0); /* NULL when the URL gives none */
    curl_url_get(h, CURLUPART_PATH, &path, 0);
    if (!host) {
        snprintf(err, errlen, "--server %s: no host", r->cfg->server);
        goto end;
    }
    r->port = port ? (unsigned)strtoul(port, NULL, 10)
              : strncmp(r->cfg->server, "https://", 8) == 0 ? 443
                                                            : 80;
    snprintf(r->host_line, sizeof(r->host_line), "Host: %s%s%s", host, port ? ":" : "",
             port ? port : "");
    snprintf(r->base_path, sizeof(r->base_path), "%s", path ? path : "");
    size_t bl = strlen(r->base_path);
    while (bl > 0 && r->base_path[bl - 1] == '/')
        r->base_path[--bl] = '\0';

    /* resolve once; every user connects to this address */
    char bare[256];
    snprintf(bare, sizeof(bare), "%s", host);
    if (bare[0] == '[') {
        memmove(bare, bare + 1, strlen(bare));
        char *close = strchr(bare, ']');
        if (close)
            *close = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int gai = getaddrinfo(bare, NULL, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "--server %s: getaddrinfo %s: %s", r->cfg->server, bare,
                 gai_strerror(gai));
        goto end;
    }
    char numeric[NI_MAXHOST > 60 ? 60 : NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL, 0,
                    NI_NUMERICHOST) != 0) {
        snprintf(err, errlen, "--server %s: getnameinfo failed", r->cfg->server);
        goto end;
    }
    if (ai->ai_family == AF_INET6)
        snprintf(r->res.address, sizeof(r->res.address), "[%s]", numeric);
    else
        snprintf(r->res.address, sizeof(r->res.address), "%s", numeric);
    rc = 0;
end:
    if (ai)
        freeaddrinfo(ai);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_url_cleanup(h);
    return rc;
}

/* Enough descriptors for every user's socket plus slack. */
static int raise_nofile(rlim_t need, char *err, size_t errlen)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s", strerror(errno));
        return -1;
    }
    if (rl.rlim_cur >= need)
        return 0;
    if (rl.rlim_max < need)
        rl.rlim_max = need; /* only root may; the error below says so if refused */
    rl.rlim_cur = need;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %llu): %s (try ulimit -n %llu)",
                 (unsigned long long)need, strerror(errno), (unsigned long long)need);
        return -1;
    }
    return 0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* ---- the phases --------------------------------------------------------------------- */

static void print_progress(struct run *r, const char *phase, int64_t now, int64_t t0,
                           int64_t end)
{
    if (!r->progress)
        return;
    uint32_t connected = 0;
    for (uint32_t i = 0; i < r->cfg->clients; i++)
        connected += r->users[i].sockets_open > 0;
    const struct counters *c = &r->res.users;
    uint64_t errors = c->run[CTR_ERR_CONNECT] + c->run[CTR_ERR_TIMEOUT] +
                      c->run[CTR_ERR_STATUS] + c->run[CTR_ERR_PARSE] + c->run[CTR_ERR_IO];
    fprintf(stderr,
            "\r%-7s %6.1f/%.1fs  connected %u/%u  updates received %llu  errors %llu ",
            phase, (double)(now - t0) / NS_PER_S, (double)(end - t0) / NS_PER_S, connected,
            r->cfg->clients, (unsigned long long)c->run[CTR_DELIVERIES],
            (unsigned long long)errors);
    fflush(stderr);
}

/* Run the loop until `until`, with a progress line every second. */
static int run_phase(struct run *r, const char *phase, int64_t t0, int64_t until,
                     int64_t end, char *err, size_t errlen)
{
    for (;;) {
        int64_t now = clock_mono_ns();
        print_progress(r, phase, now, t0, end);
        if (now >= until)
            return 0;
        int64_t stop = now + PROGRESS_EVERY_NS < until ? now + PROGRESS_EVERY_NS : until;
        if (loop_run_until(r->loop, stop, err, errlen) != 0)
            return -1;
    }
}

static int run_setup(struct run *r, char *err, size_t errlen)
{
    const struct client_config *cfg = r->cfg;
    if (parse_server(r, err, errlen) != 0)
        return -1;
    if (raise_nofile((rlim_t)cfg->clients + 256, err, errlen) != 0)
        return -1;
    if (headers_profile_load(&r->profile, cfg->headers, cfg->cookie_bytes, cfg->seed, err,
                             errlen) != 0)
        return -1;
    if (cfg->approach == APPROACH_WS && cli_protocol_tls(cfg->protocol) &&
        ws_tls_init(cfg->cacert, err, errlen) != 0)
        return -1;
    r->ws_tls = cfg->approach == APPROACH_WS && cli_protocol_tls(cfg->protocol);
    const struct transport_ops *ops = transport_for(cfg->approach);
    bool senders = cfg->send_rate_hz > 0 && !ops->carries_messages;
    r->nids = cfg->clients + 1 + (senders ? cfg->clients : 0);
    struct loop_callbacks cb = {
        .on_done = on_done, .on_timer = on_timer, .on_io = on_io, .ctx = r};
    r->loop = loop_new(r->nids, &cb, err, errlen);
    if (!r->loop)
        return -1;
    r->users = calloc(r->nids, sizeof(*r->users));
    if (!r->users) {
        snprintf(err, errlen, "calloc(%u users): out of memory", r->nids);
        return -1;
    }
    r->env.cfg = cfg;
    r->env.headers = &r->profile;
    r->env.loop = r->loop;
    r->env.fresh = &r->fresh;
    r->env.host_line = r->host_line;
    r->env.base_path = r->base_path;
    r->env.address = r->res.address;
    r->env.port = r->port;
    r->conns_open = calloc(r->nids, sizeof(*r->conns_open));
    if (!r->conns_open) {
        snprintf(err, errlen, "calloc(%u groups): out of memory", r->nids);
        return -1;
    }
    r->env.conns_open = r->conns_open;
    r->env.wire = &r->wire;
    for (uint32_t i = 0; i < r->nids; i++) {
        bool observer = i == cfg->clients, sender = i > cfg->clients;
        struct counters *ctr = observer ? &r->res.observer
                               : sender ? &r->res.upstream
                                        : &r->res.users;
        const struct transport_ops *t = observer ? &transport_sse
                                        : sender ? &transport_publish
                                                 : ops;
        r->nusers = i + 1;
        if (user_init(&r->users[i], i, observer, &r->env, t, ctr, err, errlen) != 0)
            return -1;
        if (sender)
            r->users[i].feed = &r->users[i - cfg->clients - 1];
        if (i < cfg->clients && cfg->send_rate_hz > 0) {
            r->users[i].sends = true;
            upstream_init(&r->users[i].up, &r->up_env, ctr, i, cfg->seed);
        }
    }
    return 0;
}

int run_execute(const struct client_config *cfg, struct run **out, char *err, size_t errlen)
{
    *out = NULL;
    struct run *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "calloc: out of memory");
        return -1;
    }
    r->cfg = cfg;
    r->res.cfg = cfg;
    r->res.profile = &r->profile;
    r->res.host_line = r->host_line;
    r->progress = isatty(STDERR_FILENO);

    /* the window on both clocks, fixed before anything starts */
    int64_t t0 = clock_mono_ns();
    int64_t t0_real = clock_real_ns();
    int64_t w0 = t0 + cfg->warmup_ns, w1 = w0 + cfg->duration_ns;
    int64_t end = w1 + cli_drain_ns(cfg);
    r->res.start_real_ns = t0_real;
    r->res.window_s = (double)cfg->duration_ns / NS_PER_S;
    r->up_env = (struct upstream_env){.rate_hz = cfg->send_rate_hz,
                                      .poisson = cfg->send_mode == SEND_POISSON,
                                      .bytes = (size_t)cfg->send_bytes,
                                      .start_ns = t0 + cfg->warmup_ns / 2,
                                      .w0 = w0,
                                      .w1 = w1,
                                      .rtt = hist_new()};
    upstream_run_tag(r->up_env.run);
    if (!r->up_env.rtt) {
        snprintf(err, errlen, "hist_new: out of memory");
        run_free(r);
        return -1;
    }
    if (freshness_init(&r->fresh, t0_real + cfg->warmup_ns,
                       t0_real + cfg->warmup_ns + cfg->duration_ns, err, errlen) != 0 ||
        activity_init(&r->activity, w0, end - w0, err, errlen) != 0 ||
        run_setup(r, err, errlen) != 0) {
        run_free(r);
        return -1;
    }
    r->res.msg_rtt = r->up_env.rtt;
    r->res.fr = &r->fresh;
    r->res.users.activity = &r->activity;
    r->res.activity = &r->activity;
    const struct transport_ops *ops = transport_for(cfg->approach);
    r->res.req_head_bytes = ops->ref_head_bytes(&r->profile, r->host_line);
    r->res.send_head_bytes =
        cfg->send_rate_hz > 0 && !ops->carries_messages
            ? headers_wire_bytes(&r->profile, REQUEST_SEND, "/publish", r->host_line, NULL,
                                 (size_t)cfg->send_bytes)
            : 0;

    /* schedule: the observer first, users at their seeded phases */
    struct rng rng;
    rng_seed(&rng, cfg->seed);
    loop_timer_set(r->loop, cfg->clients, t0);
    for (uint32_t i = 0; i < cfg->clients; i++)
        loop_timer_set(r->loop, i, t0 + ops->first_start(cfg, &rng));
    for (uint32_t i = cfg->clients + 1; i < r->nids; i++)
        loop_timer_set(r->loop, i, upstream_due(&r->users[i].feed->up));

    double cpu_w0 = 0, cpu_w1 = 0;
    int rc = run_phase(r, "warmup", t0, w0, end, err, errlen);
    if (rc == 0) {
        r->res.users.measuring = true;
        r->res.upstream.measuring = true;
        wire_window_start(&r->wire);
        cpu_w0 = cpu_seconds();
        rc = run_phase(r, "measure", t0, w1, end, err, errlen);
        cpu_w1 = cpu_seconds();
        r->res.users.measuring = false;
        r->res.upstream.measuring = false;
        wire_window_end(&r->wire);
    }
    if (rc == 0)
        rc = run_phase(r, "drain", t0, end, end, err, errlen);
    if (r->progress)
        fputc('\n', stderr);

    /* stop everyone, settle freshness, then close every connection (kernel counts) */
    for (uint32_t i = 0; i < cfg->clients; i++) {
        r->res.users_stopped += r->users[i].stopped;
        r->res.users_never_connected += r->users[i].sockets_ever == 0;
        r->res.users_served += r->users[i].been_up;
    }
    for (uint32_t i = 0; i < r->nusers; i++)
        user_shutdown(&r->users[i]);
    for (uint32_t i = 0; i < cfg->clients; i++)
        freshness_finish_user(&r->fresh, &r->users[i].fresh);
    struct fresh_user *fu = malloc(((size_t)cfg->clients + 1) * sizeof(*fu));
    if (fu) {
        for (uint32_t i = 0; i < cfg->clients; i++)
            fu[i] = r->users[i].fresh; /* shallow copies, read only */
        freshness_summarize(&r->fresh, fu, cfg->clients, &r->res.fresh);
        free(fu);
    }
    loop_free(r->loop);
    r->loop = NULL;
    for (uint32_t i = 0; i < r->nusers; i++)
        user_free(&r->users[i]);
    free(r->users);
    r->users = NULL;
    r->nusers = 0;
    free(r->conns_open);
    r->conns_open = NULL;
    r->env.conns_open = NULL;

    r->res.cpu_window_s = cpu_w1 - cpu_w0;
    r->res.cpu_total_s = cpu_seconds();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->res.peak_rss_kb = ru.ru_maxrss;
    if (rc != 0) {
        run_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

const struct run_results *run_results(const struct run *r)
{
    return &r->res;
}

void run_free(struct run *r)
{
    if (!r)
        return;
    for (uint32_t i = 0; i < r->nusers; i++)
        user_shutdown(&r->users[i]);
    loop_free(r->loop);
    for (uint32_t i = 0; i < r->nusers; i++)
        user_free(&r->users[i]);
    free(r->users);
    free(r->conns_open);
    wire_free(&r->wire);
    if (r->ws_tls)
        ws_tls_free();
    headers_profile_free(&r->profile);
    freshness_free(&r->fresh);
    activity_free(&r->activity);
    hist_free(r->up_env.rtt);
    free(r);
}
