/* sse_ts_net.c: the test service's shared libcurl options (sse_ts_net.h). */
#include "sse_ts_net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <sys/socket.h>

/* CURLOPT_OPENSOCKETFUNCTION: only loopback peers. */
static curl_socket_t open_loopback_socket(void *ud, curlsocktype purpose,
                                          struct curl_sockaddr *a)
{
    (void)ud;
    (void)purpose;
    bool ok = false;
    if (a->family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->addr;
        ok = (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    } else if (a->family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->addr;
        ok = IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    }
    if (!ok)
        return CURL_SOCKET_BAD;
    return socket(a->family, a->socktype, a->protocol);
}

void ts_net_easy_common(CURL *e, const char *url)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http");
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_loopback_socket);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
}
