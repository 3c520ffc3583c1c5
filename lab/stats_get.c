/* stats_get.c: GET /stats with one libcurl easy handle (see stats_get.h): a fresh one, or
 * the caller's, whose connection libcurl keeps alive between calls. The body is
 * collected into a capped buffer; a body larger than the cap fails the transfer rather
 * than being cut short.
 */
#include "stats_get.h"

#include <curl/curl.h>
#include <stdio.h>

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
    struct dynbuf *out = userdata;
    return dynbuf_add(out, data, size * n) == 0 ? size * n : 0;
}

int stats_get(const char *base_url, int timeout_ms, struct dynbuf *out, char *err,
              size_t errlen)
{
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(err, errlen, "curl_easy_init failed");
        return -1;
    }
    int rc = stats_get_on(h, base_url, timeout_ms, out, err, errlen);
    curl_easy_cleanup(h);
    return rc;
}

int stats_get_on(CURL *h, const char *base_url, int timeout_ms, struct dynbuf *out,
                 char *err, size_t errlen)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/stats", base_url);
    char why[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, ""); /* the server is local: never http_proxy's */
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, why);
    CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* why[] ends here */
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "GET %s: %s", url, why[0] ? why : curl_easy_strerror(rc));
        return -1;
    }
    if (status != 200) {
        snprintf(err, errlen, "GET %s: HTTP status %ld", url, status);
        return -1;
    }
    return 0;
}
