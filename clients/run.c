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
 * counts go to a counters set of their own (run_results.upstream). The run's ids are
 * the users 0..N-1, the observer N, then the senders N+1..2N.
 *
 * Threads (wrk's model): the users are spread over --threads workers, each with its own
 * event loop, a contiguous slice of the users (user i's sender goes with it; the observer
 * goes to the first worker) and its own counters and activity series, so the hot path
 * shares nothing. What is shared is the feed's ground truth (freshness: the publish
 * stamps, the latency histogram, the timeline) and the messages' round-trip histogram,
 * which user_deliver_update updates under one mutex, once per update received: the
 * figures are then exactly those of one loop, with no merge needed. Every worker runs the
 * same timeline (run.h) on the same clock and opens and closes its own window; the first
 * worker is the calling thread and reads the process's CPU at the window's edges. At the
 * end, after every worker has shut its users down and been joined, the counters are
 * added and the activity series added bin by bin, and the loops' own figures (loop.h)
 * merged: turns added, lag histograms merged bucket by bucket, the busiest loop's busy
 * share kept. The progress line shows what each worker published at its last second.
 */
#include "run.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
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

/* One thread's share of the run. */
struct worker {
    struct run *r;            /* the run (borrowed) */
    uint32_t index;           /* 0 = the calling thread */
    struct loop *loop;        /* its event loop (owned) */
    struct user_env env;      /* the run's env with this loop */
    struct user **members;    /* its users by loop slot (the array owned, users not) */
    uint32_t nmembers;        /* in use */
    struct counters users;    /* its users' counts */
    struct counters observer; /* the observer's (first worker only) */
    struct counters upstream; /* its senders' */
    struct activity activity; /* its users' activity (owned) */
    struct wire wire;         /* its sockets' kernel bytes in the window (owned) */
    pthread_t thread;         /* when index > 0 and started */
    bool started;             /* the thread was created */
    int rc;                   /* 0, or -1 with err */
    char err[256];            /* why it failed */
    /* what the progress line shows, published once a second under run.progress_lock */
    uint32_t shown_connected;
    uint64_t shown_deliveries, shown_errors;
};

struct run {
    struct run_results res;          /* what the report reads */
    const struct client_config *cfg; /* settings (borrowed) */
    struct header_profile profile;   /* owned */
    struct freshness fresh;          /* owned */
    struct activity activity;        /* owned; res.users.activity points here */
    struct worker *workers;          /* nworkers (owned) */
    uint32_t nworkers;               /* threads */
    pthread_mutex_t fresh_lock;      /* user_env.fresh_lock of every worker */
    pthread_mutex_t progress_lock;   /* the workers' shown_* fields */
    int64_t t0, w0, w1, end;         /* the timeline (monotonic) */
    double cpu_w0, cpu_w1;           /* process CPU at the window's edges */
    struct user *users;         /* cfg->clients users, the observer, the senders (owned) */
    uint32_t nusers;            /* users initialised (for cleanup) */
    uint32_t nids;              /* users, observer and senders: the loop's ids */
    struct upstream_env up_env; /* the messages' settings; its rtt histogram owned */
    struct user_env env;        /* shared by the users; each worker copies it */
    uint32_t *conns_open;       /* env.conns_open (owned) */
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

static void on_timer(void *ctx, uint32_t slot)
{
    struct worker *w = ctx;
    if (slot < w->nmembers)
        user_on_timer(w->members[slot]);
}

static void on_io(void *ctx, uint32_t slot, uint32_t events)
{
    struct worker *w = ctx;
    if (slot < w->nmembers)
        user_on_io(w->members[slot], events);
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

/* Publish this worker's figures for the progress line; the first worker prints the sum
 * over every worker's last figures. */
static void progress(struct worker *w, const char *phase, int64_t now)
{
    struct run *r = w->r;
    if (!r->progress)
        return;
    uint32_t connected = 0;
    for (uint32_t i = 0; i < w->nmembers; i++)
        connected += w->members[i]->sockets_open > 0 && w->members[i]->id < r->cfg->clients;
    const uint64_t *c = w->users.run;
    pthread_mutex_lock(&r->progress_lock);
    w->shown_connected = connected;
    w->shown_deliveries = c[CTR_DELIVERIES];
    w->shown_errors = c[CTR_ERR_CONNECT] + c[CTR_ERR_TIMEOUT] + c[CTR_ERR_STATUS] +
                      c[CTR_ERR_PARSE] + c[CTR_ERR_IO];
    uint64_t deliveries = 0, errors = 0;
    connected = 0;
    for (uint32_t i = 0; i < r->nworkers; i++) {
        connected += r->workers[i].shown_connected;
        deliveries += r->workers[i].shown_deliveries;
        errors += r->workers[i].shown_errors;
    }
    pthread_mutex_unlock(&r->progress_lock);
    if (w->index != 0)
        return;
    fprintf(stderr,
            "\r%-7s %6.1f/%.1fs  connected %u/%u  updates received %llu  errors %llu ",
            phase, (double)(now - r->t0) / NS_PER_S, (double)(r->end - r->t0) / NS_PER_S,
            connected, r->cfg->clients, (unsigned long long)deliveries,
            (unsigned long long)errors);
    fflush(stderr);
}

/* Run the worker's loop until `until`, with its progress every second. */
static int run_phase(struct worker *w, const char *phase, int64_t until)
{
    for (;;) {
        int64_t now = clock_mono_ns();
        progress(w, phase, now);
        if (now >= until)
            return 0;
        int64_t stop = now + PROGRESS_EVERY_NS < until ? now + PROGRESS_EVERY_NS : until;
        if (loop_run_until(w->loop, stop, w->err, sizeof(w->err)) != 0)
            return -1;
    }
}

/* One worker's run: warmup, window, drain; then its users stop (each user is only ever
 * touched by its own worker's thread until the workers are joined). */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *r = w->r;
    int rc = run_phase(w, "warmup", r->w0);
    if (rc == 0) {
        w->users.measuring = true;
        w->upstream.measuring = true;
        wire_window_start(&w->wire);
        loop_measure(w->loop, true);
        if (w->index == 0)
            r->cpu_w0 = cpu_seconds();
        rc = run_phase(w, "measure", r->w1);
        if (w->index == 0)
            r->cpu_w1 = cpu_seconds();
        loop_measure(w->loop, false);
        w->users.measuring = false;
        w->upstream.measuring = false;
        wire_window_end(&w->wire);
    }
    if (rc == 0)
        rc = run_phase(w, "drain", r->end);
    for (uint32_t i = 0; i < w->nmembers; i++)
        user_shutdown(w->members[i]);
    w->rc = rc;
    return NULL;
}

/* The worker that runs run id i (users in contiguous slices; a sender with its user; the
 * observer with the first). */
static uint32_t worker_of(const struct run *r, uint32_t i)
{
    uint32_t n = r->cfg->clients;
    if (i == n)
        return 0;
    if (i > n)
        i -= n + 1;
    return (uint32_t)((uint64_t)i * r->nworkers / n);
}

static int workers_setup(struct run *r, char *err, size_t errlen)
{
    const struct client_config *cfg = r->cfg;
    int64_t span = r->end - r->w0;
    r->nworkers = cli_threads(cfg);
    r->workers = calloc(r->nworkers, sizeof(*r->workers));
    if (!r->workers) {
        snprintf(err, errlen, "calloc(%u workers): out of memory", r->nworkers);
        return -1;
    }
    for (uint32_t t = 0; t < r->nworkers; t++) {
        struct worker *w = &r->workers[t];
        w->r = r;
        w->index = t;
        w->members = calloc(r->nids, sizeof(*w->members));
        if (!w->members) {
            snprintf(err, errlen, "calloc: out of memory");
            return -1;
        }
        if (activity_init(&w->activity, r->w0, span, err, errlen) != 0)
            return -1;
        w->users.activity = &w->activity;
        struct loop_callbacks cb = {
            .on_done = on_done, .on_timer = on_timer, .on_io = on_io, .ctx = w};
        uint32_t ids = 0;
        for (uint32_t i = 0; i < r->nids; i++)
            ids += worker_of(r, i) == t;
        w->loop = loop_new(ids, &cb, err, errlen);
        if (!w->loop)
            return -1;
        w->env = r->env;
        w->env.loop = w->loop;
        w->env.wire = &w->wire;
        w->env.fresh_lock = r->nworkers > 1 ? &r->fresh_lock : NULL;
    }
    return 0;
}

static int run_setup(struct run *r, char *err, size_t errlen)
{
    const struct client_config *cfg = r->cfg;
    if (parse_server(r, err, errlen) != 0)
        return -1;
    if (raise_nofile((rlim_t)cfg->clients * (cfg->send_rate_hz > 0 ? 2 : 1) + 256, err,
                     errlen) != 0)
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
    r->env.cfg = cfg;
    r->env.headers = &r->profile;
    r->env.fresh = &r->fresh;
    r->env.host_line = r->host_line;
    r->env.base_path = r->base_path;
    r->env.address = r->res.address;
    r->env.port = r->port;
    if (workers_setup(r, err, errlen) != 0)
        return -1;
    r->users = calloc(r->nids, sizeof(*r->users));
    if (!r->users) {
        snprintf(err, errlen, "calloc(%u users): out of memory", r->nids);
        return -1;
    }
    r->conns_open = calloc(r->nids, sizeof(*r->conns_open));
    if (!r->conns_open) {
        snprintf(err, errlen, "calloc(%u groups): out of memory", r->nids);
        return -1;
    }
    for (uint32_t t = 0; t < r->nworkers; t++)
        r->workers[t].env.conns_open = r->conns_open;
    for (uint32_t i = 0; i < r->nids; i++) {
        struct worker *w = &r->workers[worker_of(r, i)];
        bool observer = i == cfg->clients, sender = i > cfg->clients;
        struct counters *ctr = observer ? &w->observer : sender ? &w->upstream : &w->users;
        const struct transport_ops *t = observer ? &transport_sse
                                        : sender ? &transport_publish
                                                 : ops;
        r->nusers = i + 1;
        if (user_init(&r->users[i], i, observer, &w->env, t, ctr, err, errlen) != 0)
            return -1;
        r->users[i].slot = w->nmembers;
        w->members[w->nmembers++] = &r->users[i];
        if (sender)
            r->users[i].feed = &r->users[i - cfg->clients - 1];
        if (i < cfg->clients && cfg->send_rate_hz > 0) {
            r->users[i].sends = true;
            upstream_init(&r->users[i].up, &r->up_env, ctr, i, cfg->seed);
        }
    }
    return 0;
}

/* Start the workers after the first on threads of their own, run the first here, and
 * join them. 0, or -1 with the first failure's message. */
static int run_workers(struct run *r, char *err, size_t errlen)
{
    int rc = 0;
    for (uint32_t t = 1; t < r->nworkers; t++) {
        struct worker *w = &r->workers[t];
        int e = pthread_create(&w->thread, NULL, worker_main, w);
        if (e != 0) {
            snprintf(err, errlen, "pthread_create: %s", strerror(e));
            rc = -1;
            r->end = r->t0; /* the others stop at once */
            break;
        }
        w->started = true;
    }
    worker_main(&r->workers[0]);
    for (uint32_t t = 1; t < r->nworkers; t++)
        if (r->workers[t].started)
            pthread_join(r->workers[t].thread, NULL);
    for (uint32_t t = 0; t < r->nworkers && rc == 0; t++)
        if (r->workers[t].rc != 0) {
            snprintf(err, errlen, "%s", r->workers[t].err);
            rc = -1;
        }
    return rc;
}

/* The loops' own figures into the run's (before the loops are freed). */
static void merge_loop_stats(struct run *r)
{
    struct run_results *res = &r->res;
    int64_t busy_max = 0, wall = 0;
    res->loop_lag = hist_new();
    for (uint32_t t = 0; t < r->nworkers; t++) {
        const struct loop_stats *ls = loop_stats(r->workers[t].loop);
        res->loop_turns += ls->turns;
        res->loop_full_turns += ls->full_turns;
        if (ls->wall_ns > 0 && (double)ls->busy_ns / (double)ls->wall_ns >
                                   (wall > 0 ? (double)busy_max / (double)wall : -1)) {
            busy_max = ls->busy_ns;
            wall = ls->wall_ns;
        }
        if (res->loop_lag)
            hist_merge(res->loop_lag, ls->lag);
    }
    res->threads = r->nworkers;
    res->loop_busy_max = wall > 0 ? (double)busy_max / (double)wall : 0;
}

/* Every worker's counts and activity into the run's (after the loops are freed: that
 * closes libcurl's cached connections, whose kernel accounts go to the workers). */
static void merge_counts(struct run *r)
{
    for (uint32_t t = 0; t < r->nworkers; t++) {
        struct worker *w = &r->workers[t];
        counters_merge(&r->res.users, &w->users);
        counters_merge(&r->res.observer, &w->observer);
        counters_merge(&r->res.upstream, &w->upstream);
        activity_merge(&r->activity, &w->activity);
    }
}

static void workers_free(struct run *r)
{
    for (uint32_t t = 0; r->workers && t < r->nworkers; t++) {
        loop_free(r->workers[t].loop);
        r->workers[t].loop = NULL;
    }
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

    pthread_mutex_init(&r->fresh_lock, NULL);
    pthread_mutex_init(&r->progress_lock, NULL);

    /* the window on both clocks, fixed before anything starts */
    int64_t t0 = clock_mono_ns();
    int64_t t0_real = clock_real_ns();
    int64_t w0 = t0 + cfg->warmup_ns, w1 = w0 + cfg->duration_ns;
    int64_t end = w1 + cli_drain_ns(cfg);
    r->t0 = t0;
    r->w0 = w0;
    r->w1 = w1;
    r->end = end;
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

    /* schedule: the observer first, users at their seeded phases, each on its loop */
    struct rng rng;
    rng_seed(&rng, cfg->seed);
    for (uint32_t i = 0; i < r->nids; i++) {
        struct user *u = &r->users[i];
        int64_t at = i == cfg->clients  ? t0
                     : i < cfg->clients ? t0 + ops->first_start(cfg, &rng)
                                        : upstream_due(&u->feed->up);
        loop_timer_set(u->env->loop, u->slot, at);
    }

    /* the workers run the timeline; each stops its own users at the end */
    int rc = run_workers(r, err, errlen);
    if (r->progress)
        fputc('\n', stderr);
    double cpu_w0 = r->cpu_w0, cpu_w1 = r->cpu_w1;

    /* settle freshness, then close every connection (kernel counts), then add up */
    for (uint32_t i = 0; i < cfg->clients; i++) {
        r->res.users_stopped += r->users[i].stopped;
        r->res.users_never_connected += r->users[i].sockets_ever == 0;
        r->res.users_served += r->users[i].been_up;
    }
    for (uint32_t i = 0; i < cfg->clients; i++)
        freshness_finish_user(&r->fresh, &r->users[i].fresh);
    struct fresh_user *fu = malloc(((size_t)cfg->clients + 1) * sizeof(*fu));
    if (fu) {
        for (uint32_t i = 0; i < cfg->clients; i++)
            fu[i] = r->users[i].fresh; /* shallow copies, read only */
        freshness_summarize(&r->fresh, fu, cfg->clients, &r->res.fresh);
        free(fu);
    }
    merge_loop_stats(r);
    workers_free(r);
    for (uint32_t i = 0; i < r->nusers; i++)
        user_free(&r->users[i]);
    free(r->users);
    r->users = NULL;
    r->nusers = 0;
    merge_counts(r);
    free(r->conns_open);
    r->conns_open = NULL;

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
        if (!r->users[i].shutting_down)
            user_shutdown(&r->users[i]);
    workers_free(r);
    for (uint32_t i = 0; i < r->nusers; i++)
        user_free(&r->users[i]);
    free(r->users);
    free(r->conns_open);
    for (uint32_t t = 0; r->workers && t < r->nworkers; t++) {
        free(r->workers[t].members);
        activity_free(&r->workers[t].activity);
        wire_free(&r->workers[t].wire);
    }
    free(r->workers);
    hist_free(r->res.loop_lag);
    pthread_mutex_destroy(&r->fresh_lock);
    pthread_mutex_destroy(&r->progress_lock);
    if (r->ws_tls)
        ws_tls_free();
    headers_profile_free(&r->profile);
    freshness_free(&r->fresh);
    activity_free(&r->activity);
    hist_free(r->up_env.rtt);
    free(r);
}
