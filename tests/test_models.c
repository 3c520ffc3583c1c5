/* test_models.c: the model formulas (each approach's row of the table, lab/approach_*.c,
 * and a message's round trip, lab/models.c) at points where the answer is known
 * independently. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "lab/approach.h"
#include "lab/models.h"
#include "lab/report.h"
#include "rng.h"

#define near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* The approaches' models, as their rows of the approach table give them; short polling
 * with its choice: 0 the latest state, 1 a cursor. */
#define SHORT_STATE  &lab_approach_short, 0
#define SHORT_EVENTS &lab_approach_short, 1
#define LONG         &lab_approach_long, 0
#define SSE          &lab_approach_sse, 0
#define WS           &lab_approach_ws, 0

static struct model_input base(const struct lab_approach *a, unsigned choice,
                               enum model_process p, double rate)
{
    struct model_input in = {
        .approach = a, .choice = choice, .process = p, .rate_hz = rate, .burst_size = 1};
    return in;
}

static void short_polling_periodic(void **state)
{
    (void)state;
    struct model_prediction m;
    /* Bozdag et al.: pull every 1 s, publish every 50 s: 98% of polls bring nothing. */
    struct model_input in = base(SHORT_STATE, MODEL_PERIODIC, 1.0 / 50);
    in.interval_s = 1;
    model_predict(&in, &m);
    near(m.empty_share, 0.98, 1e-12);
    near(m.missed_share, 0, 1e-12);
    near(m.latency_mean_ms, 500, 1e-9);
    near(m.requests_per_client_min, 60, 1e-12);
    /* Pull slower than publish misses 1 - P/T: publish every 1 s, pull every 5 s. */
    in.rate_hz = 1;
    in.interval_s = 5;
    model_predict(&in, &m);
    near(m.missed_share, 0.8, 1e-12);
    near(m.latency_mean_ms, 500, 1e-9); /* the newest update is P/2 old on average */
    /* Staleness is continuous where T meets P (both give P/6). */
    in.interval_s = 1;
    model_predict(&in, &m);
    near(m.staleness_mean_ms, 1000.0 / 6, 1e-9);
    in.interval_s = 1 + 1e-9;
    model_predict(&in, &m);
    near(m.staleness_mean_ms, 1000.0 / 6, 1e-3);
    /* Event mode: every update, after T/2 + d on average. */
    in = base(SHORT_EVENTS, MODEL_PERIODIC, 5);
    in.interval_s = 1;
    in.delay_s = 0.05;
    model_predict(&in, &m);
    near(m.latency_mean_ms, 550, 1e-9);
    near(m.latency_max_ms, 1050, 1e-9);
    /* with a transit, T <= P: E[(U+d)^2]/(2P), U ~ U[0,1), d = 0.05, P = 2 */
    in.rate_hz = 0.5;
    model_predict(&in, &m);
    near(m.staleness_mean_ms, (1.0 / 3 + 0.05 + 0.0025) / 4 * 1000, 1e-6);
    in.rate_hz = 5;
    near(m.missed_share, 0, 0);
}

static void short_polling_poisson(void **state)
{
    (void)state;
    struct model_prediction m;
    struct model_input in = base(SHORT_STATE, MODEL_POISSON, 2);
    in.interval_s = 1;
    model_predict(&in, &m);
    near(m.empty_share, exp(-2), 1e-12);
    near(m.missed_share, 1 - (1 - exp(-2)) / 2, 1e-12);
    /* E[X | X < T] for X ~ Exp(2), T = 1, by numerical integration. */
    double num = 0, den = 0;
    for (int i = 0; i < 200000; i++) {
        double x = (i + 0.5) / 200000.0, p = 2 * exp(-2 * x);
        num += x * p;
        den += p;
    }
    near(m.latency_mean_ms, num / den * 1000, 0.01);
    /* Age tends to T/2 as changes become constant (lambda large). */
    in.rate_hz = 1e6;
    model_predict(&in, &m);
    near(m.staleness_mean_ms, 500, 0.01);
}

static void long_polling(void **state)
{
    (void)state;
    struct model_prediction m;
    struct model_input in = base(LONG, MODEL_POISSON, 1);
    in.delay_s = 0.1;
    in.timeout_s = 30;
    model_predict(&in, &m);
    near(m.latency_max_ms, 300, 1e-9); /* RFC 6202: three transits */
    assert_true(m.latency_mean_ms > 100 && m.latency_mean_ms < 200); /* d .. W/2 + d */
    /* At very low rates every update finds a request waiting: latency d. */
    in.rate_hz = 1e-6;
    model_predict(&in, &m);
    near(m.latency_mean_ms, 100, 0.01);
    near(m.requests_per_client_min, 60.0 / 30.2, 1e-3); /* idle: one per timeout + W */
    near(m.empty_share, 1, 1e-3);
    /* At very high rates updates batch: latency tends to W/2 + d. */
    in.rate_hz = 1e4;
    model_predict(&in, &m);
    near(m.latency_mean_ms, 200, 0.5);
    /* Periodic arrivals slower than the timeout: timeouts in between. */
    in = base(LONG, MODEL_PERIODIC, 1.0 / 50);
    in.timeout_s = 30;
    model_predict(&in, &m);
    near(m.requests_per_client_min, 60.0 * 2 / 50, 1e-9);
    near(m.empty_share, 0.5, 1e-12);
}

/* Long polling by simulation: Poisson arrivals; a request is answered at the first
 * arrival after it reaches the server (or at once if some arrived during the blind
 * window), or empty after tau; the next request reaches the server W later. */
static void long_polling_against_a_simulation(void **state)
{
    (void)state;
    const double lam = 10, d = 0.025, tau = 30, W = 2 * d;
    struct rng r;
    rng_seed(&r, 42);
    double t = 0, next_arrival = rng_exponential(&r, 1 / lam), end = 20000;
    double last_answer = -1; /* arrivals after this are undelivered */
    long requests = 0, empty = 0;
    while (t < end) {
        requests++;
        if (next_arrival <= t) { /* news waited in the blind window */
            last_answer = t;
        } else if (next_arrival - t <= tau) {
            t = next_arrival;
            last_answer = t;
        } else {
            t += tau;
            empty++;
        }
        while (next_arrival <= last_answer)
            next_arrival += rng_exponential(&r, 1 / lam);
        t += W;
    }
    struct model_prediction m;
    struct model_input in = base(LONG, MODEL_POISSON, lam);
    in.delay_s = d;
    in.timeout_s = tau;
    model_predict(&in, &m);
    double sim = requests / end * 60;
    assert_true(fabs(m.requests_per_client_min - sim) / sim < 0.02);
    near(m.empty_share, (double)empty / requests, 0.01);
}

static void sse_and_deviation(void **state)
{
    (void)state;
    struct model_prediction m;
    struct model_input in = base(SSE, MODEL_PERIODIC, 5);
    in.delay_s = 0.02;
    in.json_bytes = 100;
    in.seq_digits = 3;
    model_predict(&in, &m);
    near(m.latency_mean_ms, 20, 1e-9);
    near(m.staleness_mean_ms, 5 * 0.02 * 0.02 / 2 * 1000, 1e-9); /* in flight only */
    in.process = MODEL_BURST; /* a burst is one arrival */
    in.burst_size = 5;
    model_predict(&in, &m);
    near(m.staleness_mean_ms, 1 * 0.02 * 0.02 / 2 * 1000, 1e-9);
    in.process = MODEL_PERIODIC;
    /* "id: 123\n" (8) + "data: " (6) + 100 + "\n\n" (2) = 116 bytes; "74\r\n" + "\r\n" */
    near(m.bytes_per_event, 116 + 2 + 4, 1e-9);
    near(model_deviation_pct(110, 100), 10, 1e-12);
    assert_true(isnan(model_deviation_pct(1, 0)));
    near(model_deviation_pct(0, 0), 0, 0);
    assert_true(isnan(model_deviation_pct(NAN, 1)));
    in.process = MODEL_TRACE;
    in.approach = &lab_approach_short;
    in.choice = 1;
    in.interval_s = 1;
    model_predict(&in, &m);
    assert_true(isnan(m.empty_share));
    near(m.requests_per_client_min, 60, 0);
}

/* WebSocket (RFC 6455 section 5.2): one transit; a frame header of 2 bytes up to 125
 * bytes of payload, 4 up to 65535, 10 beyond; 4 bytes of mask on each frame a client
 * sends; a heartbeat is an empty ping (2) and a masked empty pong (6). */
static void websocket(void **state)
{
    (void)state;
    struct model_prediction m;
    struct model_input in = base(WS, MODEL_POISSON, 5);
    in.delay_s = 0.05;
    in.heartbeat_s = 15;
    static const double sizes[][2] = {{1, 3},         {125, 127},     {126, 130},
                                      {65535, 65539}, {65536, 65546}, {1048576, 1048586}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        in.json_bytes = sizes[i][0];
        model_predict(&in, &m);
        near(m.bytes_per_event, sizes[i][1], 0);
    }
    near(m.latency_mean_ms, 50, 1e-9);
    near(m.latency_max_ms, 50, 1e-9);
    near(m.requests_per_client_min, 0, 0);
    near(m.missed_share, 0, 0);
    near(m.staleness_mean_ms, 5 * 0.05 * 0.05 / 2 * 1000, 1e-9); /* as SSE: in flight */
    near(m.bytes_per_heartbeat, 8, 0);
    assert_true(isnan(m.msg_wire_bytes)); /* the users send nothing */
    assert_true(isnan(m.msg_rtt_mean_ms));
    in.heartbeat_s = 0;
    model_predict(&in, &m);
    assert_true(isnan(m.bytes_per_heartbeat));
    /* a message up: 100 bytes in a 2-byte header and a 4-byte mask, 200 in 4 and 4; back
     * one transit up and one down */
    in.send_bytes = 100;
    model_predict(&in, &m);
    near(m.msg_wire_bytes, 106, 0);
    near(m.msg_rtt_mean_ms, 100, 1e-9);
    in.send_bytes = 200;
    model_predict(&in, &m);
    near(m.msg_wire_bytes, 208, 0);
    /* a POST's bytes are its heads', which the profile decides: measured, not modelled;
     * its round trip is a transit up and the approach's latency down */
    in = base(SHORT_EVENTS, MODEL_POISSON, 5);
    in.interval_s = 1;
    in.delay_s = 0.05;
    in.send_bytes = 100;
    model_predict(&in, &m);
    assert_true(isnan(m.msg_wire_bytes));
    near(m.msg_rtt_mean_ms, 50 + 500 + 50, 1e-9);
    in.approach = &lab_approach_sse;
    model_predict(&in, &m);
    near(m.msg_rtt_mean_ms, 100, 1e-9);
}

/* After a restart the connection was cut at the crash; attempts at b, 3b, 7b, ... (the
 * wait doubling to at most 30 s), and the first at or after the down time D opens. */
static void websocket_outage_after_a_restart(void **state)
{
    (void)state;
    cJSON *settings = cJSON_CreateObject();
    cJSON_AddNumberToObject(settings, "backoff_ms", 1000);
    struct lab_row r = {.settings = settings, .approach = &lab_approach_ws};
    static const double cases[][2] = {{0, 1000},      {1000, 1000},  {1500, 3000},
                                      {3000, 3000},   {3001, 7000},  {20000, 31000},
                                      {40000, 61000}, {61001, 91000}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        near(lab_approach_ws.outage_model_ms(&r, cases[i][0]), cases[i][1], 1e-9);
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(settings, "backoff_ms"), 500);
    near(lab_approach_ws.outage_model_ms(&r, 1500), 1500, 1e-9); /* 0.5, 1.5 */
    cJSON_Delete(settings);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_polling_periodic),
        cmocka_unit_test(short_polling_poisson),
        cmocka_unit_test(long_polling),
        cmocka_unit_test(long_polling_against_a_simulation),
        cmocka_unit_test(sse_and_deviation),
        cmocka_unit_test(websocket),
        cmocka_unit_test(websocket_outage_after_a_restart),
    };
    return cmocka_run_group_tests_name("models", tests, NULL, NULL);
}
