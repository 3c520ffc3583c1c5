/* clock_offset.h: how far the server's clock is from this process's, from GET /time.
 *
 * A client on another host than the server reads another clock: a publish stamp (the
 * server's CLOCK_REALTIME) minus a receipt time (the client's) is then the latency plus
 * the clocks' difference. Before the run the client estimates that difference the way
 * NTP does: it reads its clock (t0), asks GET /time of the server ({"t_ns":N}), reads its
 * clock again (t1). The server read its clock somewhere inside [t0, t1], so
 *   offset = N - (t0 + t1) / 2,   within +-(t1 - t0) / 2 of the truth,
 * whatever the network does with the two directions. Of --clock-probe probes to each
 * --server URL the one with the shortest round trip (the tightest bound) is kept: the
 * first probe of a URL pays for its connection, the later ones reuse it.
 *
 * Applying it: when the offset is larger than its uncertainty (the clocks measurably
 * differ), clock.h's clock_real_offset_ns is set to it, so from then on every real-time
 * reading of this process (the window's edges, each receipt) is on the server's clock and
 * every latency is corrected by construction, with no other code aware of it. An offset
 * within its uncertainty cannot be told from zero and is left out (on one machine, where
 * the clock is one, the bound guarantees that). A corrected latency is still uncertain by
 * the uncertainty: one below it may be a latency of zero.
 */
#ifndef PUSHPULL_CLOCK_OFFSET_H
#define PUSHPULL_CLOCK_OFFSET_H

#include <stdbool.h>
#include <stdint.h>

struct client_config;

struct clock_estimate {
    uint32_t probes;      /* probes asked, all URLs */
    uint32_t answered;    /* ... answered with a time */
    int64_t offset_ns;    /* server clock - this clock, from the best probe */
    int64_t rtt_ns;       /* the best probe's round trip; uncertainty = rtt_ns / 2 */
    bool applied;         /* |offset| > uncertainty: clock_real_offset_ns holds it */
    char source_url[256]; /* the URL the best probe asked */
};

/* One probe: this clock read t0_ns before asking url and t1_ns after; the server said
 * server_ns. Kept when its round trip is the shortest yet. */
void clock_offset_sample(struct clock_estimate *e, int64_t t0_ns, int64_t server_ns,
                         int64_t t1_ns, const char *url);
/* Probe every URL of cfg->server cfg->clock_probes times (none when 0) and apply the
 * result (above). A URL's first failed probe (no server, no /time, a bad answer) ends its
 * probing, counted as unanswered: the run goes on with the clock uncorrected. Resets
 * clock_real_offset_ns first. */
void clock_offset_estimate(const struct client_config *cfg, struct clock_estimate *e);

#endif
