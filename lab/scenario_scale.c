/* scenario_scale.c: the scenario's "instances", "partitions", "balancer" and "hosts"
 * (see scenarios/README.md), and the open-file arithmetic that refuses a population that
 * cannot fit its processes.
 *
 *     "instances": 2, "partitions": 2, "balancer": "none",
 *     "hosts": {"instances": ["netns:server-1", "netns:server-2"], "redis": "netns:feed",
 *               "partitions": ["netns:load-1", "netns:load-2"]}
 *
 * More than one instance means one feed shared through Redis, so "instances" above 1 sets
 * feed.redis. A scaled run (scenario.h) starts its own set of processes (lab/scale.c):
 * the restart experiment (which crashes "the server"), the link (which sits before one
 * server) and the front are refused with it, each in one line.
 *
 * A place is "local", "netns:NAME" (NAME is 1 to 32 of a-z, 0-9 and -, common/netns.h's
 * label) or "ssh:USER@HOST". A role is one place for all its processes, or (instances and
 * partitions) a list with one place per process. Something in a namespace can reach only
 * the lab's other namespaces, never this host's loopback: instances in namespaces need
 * Redis in one, and partitions in namespaces need the instances (and the balancer) in
 * namespaces too. Another host reaches neither: partitions on ssh hosts need every
 * instance on one and no balancer, and an instance on an ssh host cannot share a Redis
 * (the conductor starts Redis and HAProxy only here or in a namespace).
 *
 * "instance_crash" ({"instance": K, "at_s": T}) names the instance crashed mid-window
 * (2..instances: instance 1 publishes) and when (0 < T < duration_s, checked per run
 * since a quick override may shorten the window).
 *
 * The fit (scenario_check_fit) is checked for every run, scaled or not, at load time, so
 * `check` and `plan` refuse what `run` could not do. Each process needs one descriptor
 * per socket it holds plus its own: a client partition its users' sockets (two per user
 * when they also send, as the client counts them) and 256 more; a server instance one per
 * connection of its users plus SCALE_SERVER_RESERVE; HAProxy and the link two per
 * connection (one each side) plus 64. The limit is this process's hard RLIMIT_NOFILE
 * (`ulimit -Hn`): a program may raise its soft limit up to it, and no further without
 * privilege. Remote hosts are assumed to have the same limit.
 */
#include "scenario_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The client's descriptors beside its users' sockets (clients/run.c raise_nofile). */
#define SCALE_CLIENT_RESERVE 256u
/* The server's own descriptors (servers/server.c server_fd_reserve with its default two
 * threads: 64 of 503 headroom, 32, 4 per thread and two more) and the conductor's /stats
 * reader. */
#define SCALE_SERVER_RESERVE 113u
/* HAProxy's or the link's own (listeners, logs, polling). */
#define SCALE_PROXY_RESERVE 64u

static const struct field_spec instances_spec = {
    "instances",
    1,
    SCENARIO_MAX_INSTANCES,
    false,
    false,
    true,
    false,
    false,
    1,
    "a whole number of server instances from 1 to 64"};
static const struct field_spec partitions_spec = {
    "partitions",
    1,
    SCENARIO_MAX_PARTITIONS,
    false,
    false,
    true,
    false,
    false,
    1,
    "a whole number of client processes from 1 to 1024"};

static const struct field_spec crash_instance_spec = {
    "instance",
    2,
    SCENARIO_MAX_INSTANCES,
    false,
    false,
    true,
    false,
    true,
    0,
    "a whole number from 2 to instances (instance 1 publishes)"};
static const struct field_spec crash_at_spec = {
    "at_s", 0,     86400, true, false,
    false,  false, true,  0,    "a number of seconds above 0 and below duration_s"};

static const char *const balancer_names[] = {"none", "haproxy"};
static const char *const hosts_keys[] = {"instances", "redis",      "balancer",
                                         "link",      "partitions", "remote_dir"};

void scenario_place_format(const struct scenario_place *p, char *out, size_t cap)
{
    if (p->kind == SCENARIO_LOCAL)
        snprintf(out, cap, "local");
    else
        snprintf(out, cap, "%s:%s", p->kind == SCENARIO_NETNS ? "netns" : "ssh", p->name);
}

/* s[0..n) holds only bytes of `set` (and n > 0). */
static bool only_of(const char *s, size_t n, const char *set)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr(set, s[i]) || s[i] == '\0')
            return false;
    return true;
}

static const char place_expect[] =
    "\"local\", \"netns:NAME\" (NAME 1 to 32 of a-z, 0-9 and -) or \"ssh:USER@HOST\"";

/* One place at path from item (a string). 0 or -1. */
static int parse_place(struct fields_ctx *c, const cJSON *item, const char *path,
                       struct scenario_place *out)
{
    static const char label[] = "abcdefghijklmnopqrstuvwxyz0123456789-";
    static const char user[] = "abcdefghijklmnopqrstuvwxyz0123456789_.-";
    static const char host[] =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-";
    memset(out, 0, sizeof(*out));
    if (!cJSON_IsString(item))
        return fields_fail_expected(c, path, place_expect, item);
    const char *v = item->valuestring;
    if (strcmp(v, "local") == 0)
        return 0;
    if (strncmp(v, "netns:", 6) == 0) {
        size_t n = strlen(v + 6);
        if (n > 32 || !only_of(v + 6, n, label))
            return fields_fail_expected(c, path, place_expect, item);
        out->kind = SCENARIO_NETNS;
        snprintf(out->name, sizeof(out->name), "%s", v + 6);
        return 0;
    }
    if (strncmp(v, "ssh:", 4) == 0) {
        const char *at = strchr(v + 4, '@');
        size_t un = at ? (size_t)(at - (v + 4)) : 0;
        size_t hn = at ? strlen(at + 1) : 0;
        /* neither part may start with '-': ssh would read it as an option */
        if (!at || un > 32 || hn > 253 || !only_of(v + 4, un, user) ||
            !only_of(at + 1, hn, host) || v[4] == '-' || at[1] == '-')
            return fields_fail_expected(c, path, place_expect, item);
        out->kind = SCENARIO_SSH;
        snprintf(out->name, sizeof(out->name), "%s", v + 4);
        return 0;
    }
    return fields_fail_expected(c, path, place_expect, item);
}

/* hosts.KEY: one place for all `count` processes, or (when `list` is non-NULL) a list of
 * exactly count places. Absent: local. 0 or -1. */
static int parse_role(struct fields_ctx *c, const cJSON *hosts, const char *key,
                      uint32_t count, struct scenario_place *list,
                      struct scenario_place *one)
{
    char path[FIELDS_PATH], expect[160];
    const cJSON *v = hosts ? cJSON_GetObjectItemCaseSensitive(hosts, key) : NULL;
    fields_path_key(path, sizeof(path), "hosts", key);
    if (!v)
        return 0;
    if (!list || !cJSON_IsArray(v)) {
        struct scenario_place p;
        if (parse_place(c, v, path, &p) != 0)
            return -1;
        if (one)
            *one = p;
        for (uint32_t i = 0; list && i < count; i++)
            list[i] = p;
        return 0;
    }
    int n = cJSON_GetArraySize(v);
    if ((uint32_t)n != count) {
        char got[32];
        snprintf(got, sizeof(got), "a list of %d", n);
        snprintf(expect, sizeof(expect), "one place, or a list of %u (one per %s)", count,
                 strcmp(key, "instances") == 0 ? "instance" : "partition");
        return fields_fail_got(c, path, expect, got);
    }
    for (int i = 0; i < n; i++) {
        char ipath[FIELDS_PATH];
        fields_path_index(ipath, sizeof(ipath), path, (size_t)i);
        if (parse_place(c, cJSON_GetArrayItem(v, i), ipath, &list[i]) != 0)
            return -1;
    }
    return 0;
}

static bool any_kind(const struct scenario_place *p, uint32_t n, enum scenario_place_kind k)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i].kind == k)
            return true;
    return false;
}

static bool all_kind(const struct scenario_place *p, uint32_t n, enum scenario_place_kind k)
{
    for (uint32_t i = 0; i < n; i++)
        if (p[i].kind != k)
            return false;
    return true;
}

/* The "hosts" section, after instances, partitions and balancer. 0 or -1. */
static int parse_hosts(struct fields_ctx *c, const cJSON *root, struct scenario_scale *sc,
                       bool redis)
{
    const cJSON *h;
    if (fields_get_object(c, root, "hosts", "an object mapping roles to places", &h) != 0)
        return -1;
    sc->hosts = h != NULL;
    if (h && fields_check_keys(c, h, "hosts", hosts_keys, N_OF(hosts_keys), "") != 0)
        return -1;
    if (parse_role(c, h, "instances", sc->instances, sc->instance_at, NULL) != 0 ||
        parse_role(c, h, "partitions", sc->partitions, sc->partition_at, NULL) != 0 ||
        parse_role(c, h, "redis", 1, NULL, &sc->redis_at) != 0 ||
        parse_role(c, h, "balancer", 1, NULL, &sc->balancer_at) != 0 ||
        parse_role(c, h, "link", 1, NULL, &sc->link_at) != 0)
        return -1;
    const char *dir = NULL;
    if (h && fields_get_string(c, h, "hosts", "remote_dir", false,
                               "an absolute path (pushpull's checkout on the ssh hosts)",
                               &dir) < 0)
        return -1;
    if (dir && (dir[0] != '/' || strlen(dir) >= sizeof(sc->remote_dir)))
        return fields_fail_got(c, "hosts.remote_dir",
                               "an absolute path of at most 1023 bytes", dir);
    if (dir)
        snprintf(sc->remote_dir, sizeof(sc->remote_dir), "%s", dir);
    if (!h)
        return 0;
    if (cJSON_GetObjectItemCaseSensitive(h, "redis") && !redis)
        return fields_fail_got(c, "hosts.redis",
                               "no entry without a Redis (\"instances\" above 1 or "
                               "feed.redis)",
                               "an entry");
    if (cJSON_GetObjectItemCaseSensitive(h, "balancer") &&
        sc->balancer == SCENARIO_BALANCER_NONE && sc->balancer_at.kind != SCENARIO_LOCAL)
        return fields_fail_got(c, "hosts.balancer", "\"local\" with balancer \"none\"",
                               "a place");
    if (sc->link_at.kind != SCENARIO_LOCAL)
        return fields_fail_got(c, "hosts.link",
                               "\"local\" (a scaled run has no link; a run with a "
                               "network has one server)",
                               "another place");
    /* what runs in a namespace reaches only the lab's namespaces */
    if (any_kind(sc->instance_at, sc->instances, SCENARIO_NETNS) && redis &&
        sc->redis_at.kind != SCENARIO_NETNS)
        return fields_fail_got(c, "hosts.redis",
                               "\"netns:NAME\" when instances run in namespaces (they "
                               "cannot reach this host's loopback)",
                               "\"local\"");
    bool lb = sc->balancer == SCENARIO_BALANCER_HAPROXY;
    /* ssh: the conductor starts Redis and HAProxy here or in a namespace only */
    if (any_kind(sc->instance_at, sc->instances, SCENARIO_SSH) && redis)
        return fields_fail_got(c, "hosts.instances",
                               "no ssh host with a Redis (Redis runs here or in a "
                               "namespace, which another host cannot reach)",
                               "an ssh host");
    if (any_kind(sc->partition_at, sc->partitions, SCENARIO_SSH) &&
        (lb || !all_kind(sc->instance_at, sc->instances, SCENARIO_SSH)))
        return fields_fail_got(c, "hosts.instances",
                               "ssh hosts for every instance, and no balancer, when "
                               "partitions run on ssh hosts (they cannot reach this "
                               "host's loopback or namespaces)",
                               lb ? "a balancer" : "an instance here");
    if (any_kind(sc->partition_at, sc->partitions, SCENARIO_NETNS)) {
        if (lb && sc->balancer_at.kind != SCENARIO_NETNS)
            return fields_fail_got(c, "hosts.balancer",
                                   "\"netns:NAME\" when partitions run in namespaces",
                                   "\"local\"");
        if (!lb && !all_kind(sc->instance_at, sc->instances, SCENARIO_NETNS))
            return fields_fail_got(c, "hosts.instances",
                                   "namespaces for every instance when partitions run in "
                                   "namespaces",
                                   "\"local\"");
    }
    if (lb && sc->balancer_at.kind == SCENARIO_NETNS &&
        !all_kind(sc->instance_at, sc->instances, SCENARIO_NETNS))
        return fields_fail_got(c, "hosts.instances",
                               "namespaces for every instance when the balancer runs in a "
                               "namespace",
                               "\"local\"");
    return 0;
}

/* "instance_crash": {"instance": K, "at_s": T}. 0 or -1. */
static int parse_crash(struct fields_ctx *c, const cJSON *root, struct scenario_scale *sc)
{
    static const char *const keys[] = {"instance", "at_s"};
    const cJSON *o;
    double k;
    if (fields_get_object(c, root, "instance_crash", "an object with instance and at_s",
                          &o) != 0)
        return -1;
    if (!o)
        return 0;
    if (fields_check_keys(c, o, "instance_crash", keys, N_OF(keys), "") != 0 ||
        fields_get_scalar(c, o, "instance_crash", &crash_instance_spec, &k) < 0 ||
        fields_get_scalar(c, o, "instance_crash", &crash_at_spec, &sc->crash_at_s) < 0)
        return -1;
    if (k > sc->instances) {
        char got[32];
        snprintf(got, sizeof(got), "%.0f", k);
        return fields_fail_got(c, "instance_crash.instance",
                               "a whole number from 2 to instances (instance 1 publishes)",
                               got);
    }
    sc->crash_instance = (uint32_t)k;
    return 0;
}

int scenario_parse_scale(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    struct scenario_scale *sc = &s->scale;
    double v;
    int bal;
    memset(sc, 0, sizeof(*sc));
    if (fields_get_scalar(c, root, "", &instances_spec, &v) < 0)
        return -1;
    sc->instances = (uint32_t)v;
    if (fields_get_scalar(c, root, "", &partitions_spec, &v) < 0)
        return -1;
    sc->partitions = (uint32_t)v;
    if (fields_get_enum(c, root, "", "balancer", false, balancer_names,
                        N_OF(balancer_names), "\"none\" or \"haproxy\"",
                        SCENARIO_BALANCER_NONE, &bal) != 0)
        return -1;
    sc->balancer = (enum scenario_balancer)bal;
    if (sc->instances > 1)
        s->feed.redis = true; /* one feed for all: through Redis */
    if (parse_crash(c, root, sc) != 0)
        return -1;
    if (parse_hosts(c, root, sc, s->feed.redis) != 0)
        return -1;
    bool away = !all_kind(sc->instance_at, sc->instances, SCENARIO_LOCAL) ||
                !all_kind(sc->partition_at, sc->partitions, SCENARIO_LOCAL) ||
                sc->redis_at.kind != SCENARIO_LOCAL ||
                sc->balancer_at.kind != SCENARIO_LOCAL;
    sc->scaled = sc->instances > 1 || sc->partitions > 1 ||
                 sc->balancer != SCENARIO_BALANCER_NONE || away;
    if (!sc->scaled)
        return 0;
    const char *why = sc->instances > 1    ? "instances above 1"
                      : sc->partitions > 1 ? "partitions above 1"
                      : away               ? "hosts other than local"
                                           : "a balancer";
    char expect[160];
    if (s->restart_on) {
        snprintf(expect, sizeof(expect), "no restart with %s (it crashes the one server)",
                 why);
        return fields_fail_got(c, "restart", expect, "a restart");
    }
    if (cJSON_GetObjectItemCaseSensitive(root, "network")) {
        snprintf(expect, sizeof(expect),
                 "no network with %s (the link sits before one server)", why);
        return fields_fail_got(c, "network", expect, "a network");
    }
    for (size_t i = 0; i < s->protocol.n; i++)
        if ((int)s->protocol.v[i] != SCENARIO_HTTP1) {
            snprintf(expect, sizeof(expect),
                     "\"http1\" with %s (the front is not yet scaled)", why);
            return fields_fail_got(c, "protocol", expect,
                                   scenario_protocol_names[(int)s->protocol.v[i]]);
        }
    return 0;
}

/* ---- the open-file arithmetic ---------------------------------------------------- */

/* This process's hard open-file limit. */
static double nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_max == RLIM_INFINITY)
        return 1e12;
    return (double)rl.rlim_max;
}

/* "FILE: clients: N users do not fit WHAT: ARITHMETIC = NEED open files, above this
 * machine's limit of LIMIT (ulimit -Hn); WAY OUT". Returns -1. */
static int fit_fail(struct fields_ctx *c, const struct scenario_run *r, const char *what,
                    const char *arithmetic, double need, double limit, const char *way)
{
    snprintf(c->err, c->errlen,
             "%s: clients: %u users do not fit %s: %s = %.0f open files, above the limit "
             "of %.0f here (ulimit -Hn); %s",
             c->file, r->clients, what, arithmetic, need, limit, way);
    return -1;
}

/* One run's processes against the limit. 0 or -1. */
static int check_run(struct fields_ctx *c, const struct scenario_run *r, double limit)
{
    const struct scenario_scale *sc = r->scale;
    char arith[256], way[256];
    double users = r->clients;
    if (sc->crash_instance && sc->crash_at_s >= r->duration_s) {
        char got[32];
        fields_fmt_num(got, sizeof(got), sc->crash_at_s);
        return fields_fail_got(c, "instance_crash.at_s",
                               "a number of seconds above 0 and below duration_s", got);
    }
    if (sc->partitions > r->clients) {
        char got[32];
        snprintf(got, sizeof(got), "%u", sc->partitions);
        snprintf(way, sizeof(way), "at most clients (%u): every partition has a user",
                 r->clients);
        return fields_fail_got(c, "partitions", way, got);
    }
    /* a client partition: ceil(users / N) users, each with its sockets */
    double per_user = r->send_rate_hz > 0 ? 2 : 1;
    double part_users = ceil(users / sc->partitions);
    double need = part_users * per_user + SCALE_CLIENT_RESERVE;
    if (need > limit) {
        double fits = floor((limit - SCALE_CLIENT_RESERVE) / per_user);
        snprintf(arith, sizeof(arith), "%.0f users x %.0f socket%s + %u", part_users,
                 per_user, per_user > 1 ? "s" : "", SCALE_CLIENT_RESERVE);
        snprintf(way, sizeof(way),
                 "a client process holds at most %.0f users: set \"partitions\" to %.0f or "
                 "more (on more hosts when one host's memory or ports run out)",
                 fits, ceil(users / fits));
        return fit_fail(c, r,
                        sc->partitions > 1 ? "a client partition" : "one client process",
                        arith, need, limit, way);
    }
    /* a server instance: its users' connections (users sharing one count once; a
     * user that sends over HTTP holds a second connection for its POSTs) */
    bool ws = strcmp(r->approach->name, "ws") == 0;
    double per_conn = r->send_rate_hz > 0 && !ws ? 2 : 1;
    double conns = ceil(users / r->users_per_connection) * per_conn;
    double inst_conns = ceil(conns / sc->instances);
    need = inst_conns + SCALE_SERVER_RESERVE;
    if (need > limit) {
        double fits = limit - SCALE_SERVER_RESERVE;
        snprintf(arith, sizeof(arith), "%.0f connections + %u", inst_conns,
                 SCALE_SERVER_RESERVE);
        snprintf(way, sizeof(way),
                 "a server instance holds at most %.0f connections: set \"instances\" to "
                 "%.0f or more (on more hosts when one host's memory runs out)",
                 fits, ceil(conns / fits));
        return fit_fail(c, r,
                        sc->instances > 1 ? "a server instance" : "one server process",
                        arith, need, limit, way);
    }
    /* one HAProxy, or the link: two descriptors per connection, one each side */
    const char *proxy = sc->balancer == SCENARIO_BALANCER_HAPROXY
                            ? "the balancer (one HAProxy)"
                        : r->network.link ? "the link emulator"
                                          : NULL;
    need = 2 * conns + SCALE_PROXY_RESERVE;
    if (proxy && need > limit) {
        snprintf(arith, sizeof(arith), "2 x %.0f connections + %u", conns,
                 SCALE_PROXY_RESERVE);
        snprintf(way, sizeof(way), "%s",
                 sc->balancer == SCENARIO_BALANCER_HAPROXY
                     ? "expected balancer \"none\" (users spread over the instances by "
                       "id) or fewer users"
                     : "expected fewer users, or no network section");
        return fit_fail(c, r, proxy, arith, need, limit, way);
    }
    return 0;
}

int scenario_check_fit(struct fields_ctx *c, const struct scenario *s)
{
    double limit = nofile_limit();
    for (size_t i = 0; i < s->n_runs; i++)
        if (check_run(c, &s->runs[i], limit) != 0)
            return -1;
    return 0;
}
