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
 * the users 0..N-1, the observer N, then the senders N+1..2N. On a foreign server the
 * client may publish itself (--publish-url, publisher.c): one more user, N+1, on the first
 * loop, whose counts go with the senders' (there are none then: --send-rate is the lab
 * server's), and whose send times the users' unstamped updates are matched to
 * (by_order.h).
 *
 * The threads, their loops and the merge of their figures are in run_workers.c; the two
 * files share the run's and the workers' structs through run_impl.h.
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
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
#include "failover.h"
#include "foreign.h"
#include "hist.h"
#include "loop.h"
#include "report_files.h"
#include "partition.h"
#include "rng.h"
#include "run_impl.h"
#include "user.h"
#include "ws_tls.h"

/* ---- setup -------------------------------------------------------------------------- */

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
static int run_setup(struct run *r, char *err, size_t errlen)
{
    const struct client_config *cfg = r->cfg;
    if (targets_parse(cfg->server, &r->targets, &r->ntargets, err, errlen) != 0)
        return -1;
    /* the report names the first target's (one URL: the server's) */
    snprintf(r->host_line, sizeof(r->host_line), "%s", r->targets[0].host_line);
    snprintf(r->res.address, sizeof(r->res.address), "%s", r->targets[0].address);
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
    bool publishes = cfg->publish_url != NULL; /* never with senders: foreign_check */
    r->nids = cfg->clients + 1 + (senders ? cfg->clients : 0) + (publishes ? 1 : 0);
    if (publishes)
        r->env.order = &r->order;
    r->env.cfg = cfg;
    r->env.headers = &r->profile;
    r->env.fresh = &r->fresh;
    r->env.targets = r->targets;
    r->env.ntargets = r->ntargets;
    /* traffic.csv is written as the run goes, so --out is made now */
    if (cfg->out_dir && cfg->traffic_log_rows > 0 &&
        (report_make_dirs(cfg->out_dir, err, errlen) != 0 ||
         traffic_log_open(&r->traffic, cfg->out_dir, cfg->traffic_log_rows, r->w0, r->w1,
                          err, errlen) != 0))
        return -1;
    if (run_workers_setup(r, err, errlen) != 0)
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
        struct worker *w = &r->workers[run_worker_of(r, i)];
        bool observer = i == cfg->clients;
        bool publisher = publishes && i == cfg->clients + 1;
        bool sender = !publisher && i > cfg->clients;
        struct counters *ctr = observer              ? &w->observer
                               : sender || publisher ? &w->upstream
                                                     : &w->users;
        const struct transport_ops *t = observer    ? &transport_sse
                                        : sender    ? &transport_publish
                                        : publisher ? &transport_publisher
                                                    : ops;
        r->nusers = i + 1;
        if (user_init(&r->users[i], i, observer, &w->env, t, ctr, err, errlen) != 0)
            return -1;
        r->users[i].publisher = publisher;
        /* the population's user 0 is the sample (partition.h): partition 1's first */
        uint32_t gid = partition_global_id(cfg->partition_index, cfg->partition_count, i);
        r->users[i].fresh.sample = i < cfg->clients && gid == 0;
        /* its instance: user u's is u % M (a sender's, its user's; the observer's, the
         * first) */
        uint32_t owner =
            publisher ? 0
            : sender  ? partition_global_id(cfg->partition_index, cfg->partition_count,
                                            i - cfg->clients - 1)
                      : gid;
        if (failover_use_target(&r->users[i], observer ? 0 : owner % r->ntargets) != 0) {
            snprintf(err, errlen, "curl_slist_append: out of memory");
            return -1;
        }
        r->users[i].slot = w->nmembers;
        w->members[w->nmembers++] = &r->users[i];
        if (sender)
            r->users[i].feed = &r->users[i - cfg->clients - 1];
        if (i < cfg->clients && cfg->send_rate_hz > 0) {
            r->users[i].sends = true;
            upstream_init(&r->users[i].up, &r->up_env, ctr, gid, cfg->seed);
        }
    }
    return 0;
}

/* traffic.csv closed, its counts into the results; rows it lacks are said on stderr. */
static void traffic_close(struct run *r)
{
    struct traffic_log *log = &r->traffic;
    char why[256] = "";
    if (!log->on)
        return;
    r->res.traffic_on = true;
    int rc = traffic_log_close(log, why, sizeof(why));
    r->res.traffic_rows = log->rows;
    r->res.traffic_rows_dropped = log->dropped;
    if (log->dropped > 0)
        fprintf(stderr,
                "pushpull-client: %s%s%" PRIu64 " rows of traffic.csv dropped (%" PRIu64
                " written, --traffic-log %" PRIu64 "): the lab will estimate the radio\n",
                rc != 0 ? why : "", rc != 0 ? "; " : "", log->dropped, log->rows,
                log->max_rows);
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
    by_order_init(&r->order);
    pthread_mutex_init(&r->progress_lock, NULL);

    /* the server's clock first (clock_offset.h): from here on this process's real-time
     * readings are on it, the window's included */
    clock_offset_estimate(cfg, &r->res.clock);

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

    /* schedule: the observer first, users at their phases (drawn from each one's global
     * id, so a partition's users start when they would with all the users: partition.h),
     * each on its loop */
    for (uint32_t i = 0; i < r->nids; i++) {
        struct user *u = &r->users[i];
        if (i == cfg->clients && !foreign_observer_runs(cfg))
            continue; /* a foreign server without an SSE URL: no observer (foreign.h) */
        struct rng rng;
        rng_seed(&rng, partition_user_seed(cfg->seed,
                                           partition_global_id(cfg->partition_index,
                                                               cfg->partition_count, i)));
        int64_t at = i == cfg->clients  ? t0
                     : i < cfg->clients ? t0 + ops->first_start(cfg, &rng)
                     : u->publisher     ? t0 + u->ops->first_start(cfg, &rng)
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
    run_merge_loop_stats(r);
    run_workers_free(r);
    for (uint32_t i = 0; i < r->nusers; i++)
        user_free(&r->users[i]);
    free(r->users);
    r->users = NULL;
    r->nusers = 0;
    run_merge_counts(r);
    free(r->conns_open);
    r->conns_open = NULL;
    traffic_close(r);

    r->res.cpu_window_s = cpu_w1 - cpu_w0;
    r->res.cpu_total_s = run_cpu_seconds();
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
    run_workers_free(r);
    for (uint32_t i = 0; i < r->nusers; i++)
        user_free(&r->users[i]);
    free(r->users);
    free(r->conns_open);
    char why[256];
    traffic_log_close(&r->traffic, why, sizeof(why)); /* a failed run's: as it is */
    free(r->targets);
    for (uint32_t t = 0; r->workers && t < r->nworkers; t++) {
        traffic_writer_free(&r->workers[t].traffic);
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
    by_order_free(&r->order);
    activity_free(&r->activity);
    hist_free(r->up_env.rtt);
    free(r);
}
