/* failover.c: moving a user to the next server instance (see failover.h).
 *
 * libcurl: the user's transfers go to its private host name (user.h), which
 * CURLOPT_RESOLVE maps to an address; libcurl re-applies the list at each transfer and an
 * entry for the same name and port replaces the one in its cache, so a new one-entry list
 * is all a move takes. The URL and Host line are built per request from the user's target
 * (user_curl.c), so the port and prefix follow too.
 */
#include "failover.h"

#include <stdio.h>

#include <curl/curl.h>

#include "user.h"

int failover_use_target(struct user *u, uint32_t t)
{
    if (t >= u->env->ntargets)
        return -1;
    if (u->easy) {
        const struct server_target *to = &u->env->targets[t];
        char entry[160];
        snprintf(entry, sizeof(entry), "%s:%u:%s", u->pin_host, to->port, to->address);
        struct curl_slist *list = curl_slist_append(NULL, entry);
        if (!list)
            return -1;
        curl_easy_setopt(u->easy, CURLOPT_RESOLVE, list);
        curl_slist_free_all(u->resolve);
        u->resolve = list;
    }
    u->target = t;
    return 0;
}

void failover_after_failure(struct user *u, enum counter k)
{
    uint32_t m = u->env->ntargets;
    if (m < 2 || (k != CTR_ERR_CONNECT && k != CTR_ERR_IO))
        return;
    if (failover_use_target(u, (u->target + 1) % m) == 0)
        counters_add(u->ctr, CTR_FAILOVERS, 1, u->ctr->measuring);
}
