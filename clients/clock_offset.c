/* clock_offset.c: GET /time probes and the offset they give (see clock_offset.h).
 *
 * The probes run before the users exist, one at a time on one libcurl easy handle per
 * URL (so all but the first reuse a connection, as a user's polls do), each bounded by
 * --connect-timeout (at most 2 s) and 3 s in all. The answer must be a 200 with
 * {"t_ns": <number>} (parsed with cJSON); the first probe of a URL that fails ends that
 * URL's probing, so a server without /time (or none at all) costs one request and at
 * most one time limit, and the run goes on uncorrected. By default (auto) a server on this
 * host's loopback is not probed at all: it reads the same clock.
 */
#include "clock_offset.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "cli.h"
#include "clock.h"

#define PROBE_BODY_MAX 256 /* {"t_ns":N} is about 30 bytes */

void clock_offset_sample(struct clock_estimate *e, int64_t t0_ns, int64_t server_ns,
                         int64_t t1_ns, const char *url)
{
    int64_t rtt = t1_ns - t0_ns;
    if (rtt < 0)
        return; /* the clock was stepped under the probe */
    e->answered++;
    if (e->answered > 1 && rtt >= e->rtt_ns)
        return;
    e->rtt_ns = rtt;
    e->offset_ns = server_ns - (t0_ns + rtt / 2);
    snprintf(e->source_url, sizeof(e->source_url), "%.255s", url);
}

struct body {
    char buf[PROBE_BODY_MAX];
    size_t len;
};

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
    struct body *b = ctx;
    size_t len = size * n;
    if (len > sizeof(b->buf) - 1 - b->len)
        return 0; /* too long: not a /time answer */
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    return len;
}

/* The server time in a /time answer, or -1 when it is not one. A time past 2^62 ns (the
 * year 2116) is not one either: converting it would overflow, and the offset it gave,
 * added to every reading of clock_real_ns, would overflow those. */
static int parse_time(struct body *b, int64_t *out)
{
    b->buf[b->len] = '\0';
    cJSON *root = cJSON_Parse(b->buf);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "t_ns");
    int rc = -1;
    if (cJSON_IsNumber(t) && t->valuedouble > 0 && t->valuedouble < 0x1p62) {
        *out = (int64_t)t->valuedouble;
        rc = 0;
    }
    cJSON_Delete(root);
    return rc;
}

/* n probes of base + "/time" on one handle. */
static void probe_url(const struct client_config *cfg, const char *base, uint32_t n,
                      struct clock_estimate *e)
{
    char url[1200];
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    snprintf(url, sizeof(url), "%.*s/time", (int)bl, base);
    CURL *h = curl_easy_init();
    if (!h) {
        e->probes += n;
        return;
    }
    struct body body;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* as the users: never http_proxy's proxy */
    long connect_ms = (long)(cfg->connect_timeout_ns / NS_PER_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms < 2000 ? connect_ms : 2000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    if (cfg->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, cfg->cacert);
    if (cfg->protocol == PROTO_H2C)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    else if (cfg->protocol == PROTO_H2)
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    else
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    for (uint32_t i = 0; i < n; i++) {
        body.len = 0;
        e->probes++;
        int64_t t0 = clock_real_ns();
        CURLcode rc = curl_easy_perform(h);
        int64_t t1 = clock_real_ns();
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        int64_t server;
        if (rc != CURLE_OK || status != 200 || parse_time(&body, &server) != 0)
            break; /* no /time here (or no server): its other probes are not asked */
        clock_offset_sample(e, t0, server, t1, url);
    }
    curl_easy_cleanup(h);
}

/* The host of URL base is this host's loopback: 127.0.0.0/8, ::1 or localhost. */
static bool on_loopback(const char *base, size_t len)
{
    const char *h = memmem(base, len, "://", 3);
    h = h ? h + 3 : base;
    size_t n = (size_t)(base + len - h);
    char host[256];
    size_t hl = 0;
    if (n > 0 && h[0] == '[') { /* [v6]:port */
        const char *close = memchr(h, ']', n);
        if (!close)
            return false;
        hl = (size_t)(close - h - 1);
        h++;
    } else {
        while (hl < n && h[hl] != ':' && h[hl] != '/')
            hl++;
    }
    if (hl == 0 || hl >= sizeof(host))
        return false;
    memcpy(host, h, hl);
    host[hl] = '\0';
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, host, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return strcasecmp(host, "localhost") == 0;
}

/* How many probes of each URL: --clock-probe, or for auto none when every URL is on
 * loopback (the server reads this host's clock: there is nothing to estimate, and a probe
 * would be a request the server and its counters did not ask for). */
static uint32_t probes_of(const struct client_config *cfg)
{
    if (cfg->clock_probes != CLOCK_PROBES_AUTO)
        return cfg->clock_probes;
    for (const char *p = cfg->server;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!on_loopback(p, len))
            return CLOCK_PROBES_AUTO_N;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

void clock_offset_estimate(const struct client_config *cfg, struct clock_estimate *e)
{
    memset(e, 0, sizeof(*e));
    clock_real_offset_ns = 0;
    uint32_t n = cfg->server ? probes_of(cfg) : 0;
    if (n == 0)
        return;
    const char *p = cfg->server;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char base[1024];
        snprintf(base, sizeof(base), "%.*s", (int)len, p);
        probe_url(cfg, base, n, e);
        if (!comma)
            break;
        p = comma + 1;
    }
    int64_t mag = e->offset_ns < 0 ? -e->offset_ns : e->offset_ns;
    /* beyond rtt/2, exactly (for whole numbers, mag > rtt / 2 is 2 * mag > rtt, which
     * could overflow) */
    e->applied = e->answered > 0 && mag > e->rtt_ns / 2;
    if (e->applied)
        clock_real_offset_ns = e->offset_ns;
}
