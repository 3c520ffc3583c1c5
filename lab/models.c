/* models.c: the formulas behind the report's "model" column (see models.h and MODELS.md).
 *
 * Notation: T poll interval, P = 1/lambda the update period (periodic), Pb = B/lambda the
 * burst period, lambda the rate, d the one-way delay, tau the long-poll timeout,
 * W = 2d + c the long-poll blind window. Derivations in brief, next to each formula.
 */
#include "models.h"

#include <math.h>

/* Short polling. Each client polls at a random phase, so an update waits for the next
 * poll a time uniform in [0, T): mean T/2, worst T, plus one transit d. */
static void short_poll(const struct model_input *in, struct model_prediction *o)
{
    double T = in->interval_s, d = in->delay_s, lam = in->rate_hz;
    bool state = in->approach == MODEL_SHORT_STATE;
    o->requests_per_client_min = 60.0 / T;
    o->latency_max_ms = (T + d) * 1e3;
    o->missed_share = state ? NAN : 0;
    if (in->process == MODEL_TRACE || lam <= 0)
        return;
    /* Periodic and bursty arrivals share one shape: an arrival every P seconds (a burst of
     * B updates for burst, of which state mode can only ever see the last). */
    double B = in->process == MODEL_BURST ? in->burst_size : 1;
    double P = B / lam;
    if (state && in->process != MODEL_POISSON && T > P) /* the newest is at most P old */
        o->latency_max_ms = (P + d) * 1e3;
    if (in->process == MODEL_POISSON) {
        double x = lam * T, e = exp(-x);
        o->empty_share = e;
        /* State mode sees at most the newest update per poll: of the lambda*T updates in a
         * period it receives one with probability 1 - e^-x (MODELS.md). Its age at the poll
         * is the time since the last arrival, Exp(lambda) conditioned on being < T. */
        if (state) {
            o->missed_share = 1 - (1 - e) / x;
            o->latency_mean_ms = (1 / lam - T * e / (1 - e) + d) * 1e3;
        } else {
            o->latency_mean_ms = (T / 2 + d) * 1e3;
        }
        /* Cho and Garcia-Molina's age of a copy synchronised every T under Poisson change.
         */
        o->staleness_mean_ms = (T / 2 - 1 / lam + (1 - e) / (lam * lam * T)) * 1e3;
        return;
    }
    /* Periodic (or bursts): polls faster than arrivals are mostly redundant (Bozdag et al.
     * 2007: 1 - T/P); slower ones see only the newest, aged uniformly in [0, P). */
    if (T <= P) {
        o->empty_share = 1 - T / P;
        o->latency_mean_ms = (T / 2 + d) * 1e3;
        /* Behind for U + d per period (U ~ U[0,T) until a poll reaches the server, then
         * the answer's transit), age rising 0..U+d: area (U+d)^2/2 over P, so
         * E[(U+d)^2]/(2P) = (T^2/3 + T d + d^2)/(2P); T^2/(6P) on loopback. */
        o->staleness_mean_ms = (T * T / 3 + T * d + d * d) / (2 * P) * 1e3;
        if (state)
            o->missed_share = (B - 1) / B;
    } else {
        o->empty_share = 0;
        o->latency_mean_ms = ((state ? P / 2 : T / 2) + d) * 1e3;
        /* Per poll cycle: up to date for P - U (U ~ U[0,P) the newest update's age at the
         * poll), then behind and ageing for T - P + U: mean (T^3 - (T-P)^3) / (6TP). */
        o->staleness_mean_ms = (T * T * T - pow(T - P, 3)) / (6 * T * P) * 1e3;
        if (state)
            o->missed_share = 1 - P / (T * B);
    }
}

/* Long polling. An update finds a request waiting unless it falls into the blind window W
 * after an answer; then it waits for the rest of W and rides the next answer, batched with
 * anything else that arrived (RFC 6202 2.2). Poisson: the MODELS.md closed forms. */
static void long_poll(const struct model_input *in, struct model_prediction *o)
{
    double d = in->delay_s, W = 2 * d + in->client_gap_s, lam = in->rate_hz;
    double tau = in->timeout_s;
    o->missed_share = 0;
    o->latency_max_ms = 3 * d * 1e3;
    o->staleness_mean_ms = NAN;
    if (in->process == MODEL_TRACE || lam <= 0)
        return;
    double B = in->process == MODEL_BURST ? in->burst_size : 1;
    if (in->process == MODEL_POISSON) {
        /* [d + k (W/2 + d)] / (1 + k) with k = x e^x, x = lambda W, rewritten so that a
         * huge k (e^x overflows past x ~ 709) gives W/2 + d instead of inf/inf. */
        double x = lam * W, inv = x > 700 ? 0 : 1 / (1 + x * exp(x));
        o->latency_mean_ms = (W / 2 + d - W / 2 * inv) * 1e3;
        /* A cycle: the blind window W, then, only if nothing arrived during it (e^-lW),
         * a held wait that ends at the first arrival or at tau. A request that finds
         * news from its blind window is answered at once. */
        double idle = exp(-lam * W);
        double cycle = W + idle * (1 - exp(-lam * tau)) / lam;
        o->requests_per_client_min = 60.0 / cycle;
        o->empty_share = idle * exp(-lam * tau);
    } else {
        double P = B / lam; /* arrivals (bursts) are P apart: each one answers a request */
        o->latency_mean_ms = (P > W ? d : W / 2 + d) * 1e3;
        double answers = P > tau ? ceil(P / tau) : 1; /* timeouts before each arrival */
        o->requests_per_client_min = 60.0 * answers / (P > W ? P : W);
        o->empty_share = (answers - 1) / answers;
    }
}

/* SSE: one request per client; each update one transit away, framed as
 * "id: N\ndata: JSON\n\n" inside one HTTP chunk (hex size, CRLF, data, CRLF). */
static void sse(const struct model_input *in, struct model_prediction *o)
{
    o->requests_per_client_min = 0; /* one per connection, opened before the window */
    o->latency_mean_ms = in->delay_s * 1e3;
    o->latency_max_ms = in->delay_s * 1e3;
    o->missed_share = 0;
    o->empty_share = 0;
    /* Behind only while an arrival is in flight: age 0..d over d, per arrival, so the
     * time average is (arrivals per second) d^2 / 2 (for that rate x d << 1). A burst
     * of B updates published together is one arrival. */
    double arrivals = in->process == MODEL_BURST && in->burst_size > 0
                          ? in->rate_hz / in->burst_size
                          : in->rate_hz;
    o->staleness_mean_ms = arrivals * in->delay_s * in->delay_s / 2 * 1e3;
    if (in->json_bytes > 0) {
        double text = 4 + in->seq_digits + 1 + 6 + in->json_bytes + 2;
        o->sse_bytes_per_event = text + ceil(log(text + 1) / log(16)) + 4;
    }
}

void model_predict(const struct model_input *in, struct model_prediction *out)
{
    *out = (struct model_prediction){NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    switch (in->approach) {
    case MODEL_SHORT_STATE:
    case MODEL_SHORT_EVENTS:
        short_poll(in, out);
        break;
    case MODEL_LONG:
        long_poll(in, out);
        break;
    case MODEL_SSE:
        sse(in, out);
        break;
    }
}

double model_deviation_pct(double measured, double model)
{
    if (isnan(measured) || isnan(model))
        return NAN;
    if (model == 0)
        return measured == 0 ? 0 : NAN;
    return (measured - model) / model * 100.0;
}
