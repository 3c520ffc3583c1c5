/* models.c: what every model shares (see models.h): the empty prediction, the dispatch to
 * an approach's own formulas (its row's predict, in approach_*.c), the one figure every
 * approach has alike (a message's round trip), and the deviation the report prints beside
 * each pair.
 */
#include "models.h"

#include <math.h>

#include "approach.h"

void model_predict(const struct model_input *in, struct model_prediction *out)
{
    *out = (struct model_prediction){NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    if (in->approach && in->approach->predict)
        in->approach->predict(in, out);
    /* A message travels one transit up (a POST on a connection already open, or a frame),
     * is published at once, and comes back as any update does: the approach's mean
     * latency, which holds one transit down. */
    if (in->send_bytes > 0)
        out->msg_rtt_mean_ms = in->delay_s * 1e3 + out->latency_mean_ms;
}

double model_push_staleness_ms(const struct model_input *in)
{
    double arrivals = in->process == MODEL_BURST && in->burst_size > 0
                          ? in->rate_hz / in->burst_size
                          : in->rate_hz;
    return arrivals * in->delay_s * in->delay_s / 2 * 1e3;
}

double model_deviation_pct(double measured, double model)
{
    if (isnan(measured) || isnan(model))
        return NAN;
    if (model == 0)
        return measured == 0 ? 0 : NAN;
    return (measured - model) / model * 100.0;
}
