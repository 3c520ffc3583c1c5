/* clock_offset.c: GET /time probes and the offset they give (see clock_offset.h).
 *
 * The probes run before the users exist, one at a time on one libcurl easy handle per
 * URL (so all but the first reuse a connection, as a user's polls do), each bounded by
 * --connect-timeout (at most 2 s) and 3 s in all. The answer must be a 200 with
 * {"t_ns": <number>} (parsed with cJSON); the first probe of a URL that fails ends that
 * URL's probing, so a server without /time (or none at all) costs one request and at
 * most one time limit, and the run goes on uncorrected.
 */
#include "clock_offset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The server time in a /time answer, or -1 when it is not one. */
static int parse_time(struct body *b, int64_t *out)
{
    b->buf[b->len] = '\0';
    cJSON *root = cJSON_Parse(b->buf);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "t_ns");
    int rc = -1;
    if (cJSON_IsNumber(t) && t->valuedouble > 0) {
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

void clock_offset_estimate(const struct client_config *cfg, struct clock_estimate *e)
{
    memset(e, 0, sizeof(*e));
    clock_real_offset_ns = 0;
    if (cfg->clock_probes == 0 || !cfg->server)
        return;
    const char *p = cfg->server;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char base[1024];
        snprintf(base, sizeof(base), "%.*s", (int)len, p);
        probe_url(cfg, base, cfg->clock_probes, e);
        if (!comma)
            break;
        p = comma + 1;
    }
    int64_t mag = e->offset_ns < 0 ? -e->offset_ns : e->offset_ns;
    e->applied = e->answered > 0 && 2 * mag > e->rtt_ns; /* beyond rtt/2, exactly */
    if (e->applied)
        clock_real_offset_ns = e->offset_ns;
}
