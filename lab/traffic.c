/* traffic.c: what the approaches' traffic estimates share (see traffic.h). */
#include "traffic.h"

#include <math.h>
#include <string.h>

#include "lab.h"

void traffic_input_of(const cJSON *run, const char *period_key, double period_unit_s,
                      struct traffic_input *in)
{
    const cJSON *rec = cJSON_GetObjectItemCaseSensitive(run, "run");
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(rec, "settings");
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(run, "results");
    double c = lab_num(rec, "time_compression");
    if (!(c > 0))
        c = 1;
    memset(in, 0, sizeof(*in));
    const char *proc = lab_str(set, "update_process");
    in->process = strcmp(proc, "periodic") == 0 ? TRAFFIC_PERIODIC
                  : strcmp(proc, "burst") == 0  ? TRAFFIC_BURST
                                                : TRAFFIC_POISSON;
    in->burst_size = in->process == TRAFFIC_BURST ? lab_num(set, "burst_size") : 1;
    in->rate_hz = lab_num(set, "rate_hz") / c;
    if (isnan(in->rate_hz)) { /* a trace: the rate its window had */
        double clients = lab_num(res, "clients"), dur = lab_num(res, "duration_s");
        in->rate_hz = lab_num(res, "updates_expected") / clients / dur / c;
    }
    in->period_s = period_key ? lab_num(set, period_key) * period_unit_s * c : 0;
    double requests = lab_num(res, "requests");
    double answers = lab_num(res, "responses_news") + lab_num(res, "responses_empty") +
                     lab_num(res, "responses_304");
    double pushed = lab_num(res, "sse_events") + lab_num(res, "sse_comments");
    in->request_bytes =
        requests > 0
            ? (lab_num(res, "req_header_bytes") + lab_num(res, "req_body_bytes")) / requests
            : 0;
    in->answer_bytes =
        answers > 0 ? (lab_num(res, "resp_header_bytes") + lab_num(res, "resp_body_bytes") +
                       lab_num(res, "framing_bytes")) /
                          answers
                    : 0;
    in->event_bytes =
        pushed > 0
            ? (lab_num(res, "resp_body_bytes") + lab_num(res, "framing_bytes")) / pushed
            : 0;
}

double traffic_next_arrival(const struct traffic_input *in, struct rng *rng, double t)
{
    double arrivals_hz = in->rate_hz / (in->burst_size > 0 ? in->burst_size : 1);
    if (!(arrivals_hz > 0))
        return INFINITY;
    if (in->process == TRAFFIC_POISSON)
        return t + rng_exponential(rng, 1 / arrivals_hz);
    /* periodic and bursts: every 1/arrivals_hz, on a grid from 0 */
    double p = 1 / arrivals_hz;
    double next = (floor(t / p) + 1) * p;
    return next > t ? next : next + p; /* t / p may round below a whole number */
}

struct radio_result traffic_estimate(void (*feed)(const struct traffic_input *,
                                                  struct radio_sim *, struct rng *, double),
                                     const struct traffic_input *in,
                                     const struct radio_params *p, double hours,
                                     uint64_t seed)
{
    struct radio_sim sim;
    struct rng rng;
    rng_seed(&rng, seed);
    radio_sim_init(&sim, p, 0);
    feed(in, &sim, &rng, hours * 3600);
    return radio_per_hour(radio_sim_at(&sim, hours * 3600));
}
