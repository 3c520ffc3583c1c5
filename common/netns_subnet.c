/* netns_subnet.c: a subnet for a new namespace (netns_impl.h): the host's addresses and
 * routes read as JSON (`ip -j`), and the first /NETNS_PREFIX of the pool that overlaps
 * none of them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "netns.h"
#include "netns_impl.h"

/* The pool, in the order it is tried: RFC 1918 blocks few networks use. */
static const struct {
    const char *net;
    unsigned len;
} pool[] = {{"10.213.0.0", 16}, {"172.29.0.0", 16}, {"192.168.213.0", 24}};

/* IPv4 prefixes in use on this host, host byte order. */
struct prefix {
    uint32_t addr;
    unsigned len;
};
struct prefixes {
    struct prefix *v; /* malloc'd, freed by prefixes_free */
    size_t n, cap;
};

static int prefixes_add(struct prefixes *p, const char *text, unsigned len)
{
    char a[INET_ADDRSTRLEN];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    if (alen >= sizeof(a))
        return -1;
    memcpy(a, text, alen);
    a[alen] = '\0';
    if (slash) {
        char *end;
        unsigned long l = strtoul(slash + 1, &end, 10);
        if (*end || l > 32)
            return -1;
        len = (unsigned)l;
    }
    struct in_addr in;
    if (inet_pton(AF_INET, a, &in) != 1 || len > 32)
        return -1;
    if (len == 0)
        return 0; /* a default route: it says where to send, not what is in use */
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct prefix *v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (struct prefix){ntohl(in.s_addr), len};
    return 0;
}

static void prefixes_free(struct prefixes *p)
{
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static int overlaps(struct prefix a, struct prefix b)
{
    unsigned m = a.len < b.len ? a.len : b.len;
    uint32_t mask = m == 0 ? 0 : ~UINT32_C(0) << (32 - m);
    return ((a.addr ^ b.addr) & mask) == 0;
}

/* Add the prefixes of `ip -j -4 addr show` (an array of links, each with addr_info) or
 * of `ip -j -4 route show table all` (an array of routes with dst) in json. */
static int prefixes_from_json(struct prefixes *p, const char *json, int routes)
{
    cJSON *root = cJSON_Parse(json && *json ? json : "[]");
    int rc = cJSON_IsArray(root) ? 0 : -1;
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        if (routes) {
            const cJSON *dst = cJSON_GetObjectItemCaseSensitive(item, "dst");
            if (cJSON_IsString(dst) && strcmp(dst->valuestring, "default") != 0 &&
                prefixes_add(p, dst->valuestring, 32) != 0)
                rc = -1;
            continue;
        }
        const cJSON *info = cJSON_GetObjectItemCaseSensitive(item, "addr_info"), *a;
        cJSON_ArrayForEach(a, info)
        {
            const cJSON *len = cJSON_GetObjectItemCaseSensitive(a, "prefixlen");
            const char *keys[] = {"local", "address"}; /* address: a point-to-point peer */
            for (size_t k = 0; k < 2; k++) {
                const cJSON *at = cJSON_GetObjectItemCaseSensitive(a, keys[k]);
                if (cJSON_IsString(at) && cJSON_IsNumber(len) &&
                    prefixes_add(p, at->valuestring, (unsigned)len->valueint) != 0)
                    rc = -1;
            }
        }
    }
    cJSON_Delete(root);
    return rc;
}

/* Read what this host uses (addresses with their prefixes, routes of every table). */
static int used_read(struct prefixes *used, char *err, size_t errlen)
{
    struct dynbuf out;
    dynbuf_init(&out, IP_STDOUT_MAX);
    int rc = -1;
    if (netns_ip_step(err, errlen, NULL, "read this host's addresses", &out, "-j", "-4",
                      "addr", "show", NULL) != 0)
        goto cleanup;
    if (prefixes_from_json(used, out.mem, 0) != 0) {
        snprintf(err, errlen, "netns: ip -j -4 addr show: not the JSON expected");
        goto cleanup;
    }
    if (netns_ip_step(err, errlen, NULL, "read this host's routes", &out, "-j", "-4",
                      "route", "show", "table", "all", NULL) != 0)
        goto cleanup;
    if (prefixes_from_json(used, out.mem, 1) != 0) {
        snprintf(err, errlen,
                 "netns: ip -j -4 route show table all: not the JSON expected");
        goto cleanup;
    }
    rc = 0;
cleanup:
    dynbuf_free(&out);
    return rc;
}

/* The first /30 of the pool that overlaps nothing in used: its network address (host
 * order) in *net. 0, or -1 when every one does. */
static int subnet_choose(const struct prefixes *used, uint32_t *net)
{
    for (size_t b = 0; b < sizeof(pool) / sizeof(pool[0]); b++) {
        struct in_addr base;
        inet_pton(AF_INET, pool[b].net, &base);
        uint32_t count = UINT32_C(1) << (NETNS_PREFIX - pool[b].len);
        for (uint32_t i = 0; i < count; i++) {
            struct prefix cand = {ntohl(base.s_addr) + (i << (32 - NETNS_PREFIX)),
                                  NETNS_PREFIX};
            size_t u = 0;
            while (u < used->n && !overlaps(cand, used->v[u]))
                u++;
            if (u == used->n) {
                *net = cand.addr;
                return 0;
            }
        }
    }
    return -1;
}

int netns_subnet_pick(const char *name, uint32_t *net, char *err, size_t errlen)
{
    struct prefixes used = {0};
    int rc = used_read(&used, err, errlen);
    if (rc == 0 && subnet_choose(&used, net) != 0) {
        snprintf(err, errlen,
                 "netns %s: choose a subnet: every /%d of 10.213.0.0/16, 172.29.0.0/16 and "
                 "192.168.213.0/24 overlaps an address or a route of this host",
                 name, NETNS_PREFIX);
        rc = -1;
    }
    prefixes_free(&used);
    return rc;
}
