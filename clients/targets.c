/* targets.c: --server's URLs split and resolved (see targets.h).
 *
 * libcurl's URL parser splits each URL (so the rules are a browser's, IPv6 brackets
 * included); getaddrinfo resolves the host once, and its first answer is the address
 * every user of that target connects to, so a name that resolves to several addresses
 * does not spread the users in ways the run cannot report.
 */
#include "targets.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <curl/curl.h>

/* One URL into t. 0 or -1 with err. */
static int target_parse(const char *url, struct server_target *t, char *err, size_t errlen)
{
    int rc = -1;
    char *host = NULL, *port = NULL, *path = NULL;
    struct addrinfo *ai = NULL;
    snprintf(t->url, sizeof(t->url), "%s", url);
    CURLU *h = curl_url();
    if (!h) {
        snprintf(err, errlen, "curl_url: out of memory");
        return -1;
    }
    CURLUcode uc = curl_url_set(h, CURLUPART_URL, url, 0);
    if (uc != CURLUE_OK) {
        snprintf(err, errlen, "--server %s: curl_url_set: %s", url, curl_url_strerror(uc));
        goto end;
    }
    curl_url_get(h, CURLUPART_HOST, &host, 0);
    curl_url_get(h, CURLUPART_PORT, &port, 0); /* NULL when the URL gives none */
    curl_url_get(h, CURLUPART_PATH, &path, 0);
    if (!host) {
        snprintf(err, errlen, "--server %s: no host", url);
        goto end;
    }
    t->port = port                               ? (unsigned)strtoul(port, NULL, 10)
              : strncmp(url, "https://", 8) == 0 ? 443
                                                 : 80;
    snprintf(t->host_line, sizeof(t->host_line), "Host: %s%s%s", host, port ? ":" : "",
             port ? port : "");
    snprintf(t->base_path, sizeof(t->base_path), "%s", path ? path : "");
    size_t bl = strlen(t->base_path);
    while (bl > 0 && t->base_path[bl - 1] == '/')
        t->base_path[--bl] = '\0';

    /* resolve once; every user of this target connects to this address */
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
        snprintf(err, errlen, "--server %s: getaddrinfo %s: %s", url, bare,
                 gai_strerror(gai));
        goto end;
    }
    char numeric[NI_MAXHOST > 60 ? 60 : NI_MAXHOST];
    if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL, 0,
                    NI_NUMERICHOST) != 0) {
        snprintf(err, errlen, "--server %s: getnameinfo failed", url);
        goto end;
    }
    if (ai->ai_family == AF_INET6)
        snprintf(t->address, sizeof(t->address), "[%s]", numeric);
    else
        snprintf(t->address, sizeof(t->address), "%s", numeric);
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

int targets_parse(const char *list, struct server_target **out, uint32_t *n_out, char *err,
                  size_t errlen)
{
    uint32_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ',';
    struct server_target *t = calloc(n, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "calloc(%u targets): out of memory", n);
        return -1;
    }
    const char *p = list;
    for (uint32_t i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        char url[1024];
        snprintf(url, sizeof(url), "%.*s", (int)len, p);
        if (target_parse(url, &t[i], err, errlen) != 0) {
            free(t);
            return -1;
        }
        p = comma ? comma + 1 : p + len;
    }
    *out = t;
    *n_out = n;
    return 0;
}
