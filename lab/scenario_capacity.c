/* scenario_capacity.c: the scenario's "target" and "radio" sections (see
 * scenarios/README.md): the population and the egress price the report scales each
 * approach's measured cost to, and the phones' radio model for the energy figures
 * (lab/radio.h). Both are optional; their defaults are documented there and in
 * docs/MODELS.md. Neither sweeps: they change what the report computes from a run, not
 * the run.
 *
 * A radio override is written in the units a paper's table uses (ms, mW, mW per Mbit/s)
 * and kept in the model's own (s, W).
 */
#include "scenario_impl.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct field_spec target_users = {
    "users", 1,     1e9,   false, false,
    true,    false, false, 10000, "a whole number of users from 1 to 1000000000"};
static const struct field_spec egress_price = {
    "egress_usd_per_gb",
    0,
    1000,
    false,
    false,
    false,
    false,
    false,
    0.09,
    "a price in US dollars per GB (10^9 bytes) from 0 to 1000"};

/* A radio override: its spec (the default is the model's, filled in), where it goes in
 * struct radio_params, and the factor from the file's unit to the model's. */
struct radio_field {
    struct field_spec spec;
    size_t offset;
    double scale;
};

#define MS(key, member)                                                                    \
    {                                                                                      \
        {key,   0,     600000, false, false,                                               \
         false, false, false,  0,     "a number of milliseconds from 0 to 600000"},        \
            offsetof(struct radio_params, member), 1e-3                                    \
    }
#define MW(key, member)                                                                    \
    {                                                                                      \
        {key,   0,     100000, false, false,                                               \
         false, false, false,  0,     "a number of milliwatts from 0 to 100000"},          \
            offsetof(struct radio_params, member), 1e-3                                    \
    }

static const struct radio_field radio_fields[] = {
    MS("promotion_ms", promotion_s),
    MW("promotion_mw", promotion_w),
    MS("tail_ms", tail_s),
    MW("tail_mw", tail_w),
    MS("tail2_ms", tail2_s),
    MW("tail2_mw", tail2_w),
    MS("repromotion_ms", repromotion_s),
    MW("repromotion_mw", repromotion_w),
    MW("transfer_mw", beta_w),
    MW("alpha_up_mw_per_mbps", alpha_up_w),
    MW("alpha_down_mw_per_mbps", alpha_down_w),
    MW("idle_mw", idle_w),
    {{"up_mbps", 0.001, 100000, false, false, false, false, false, 0,
      "a number of Mbit/s from 0.001 to 100000"},
     offsetof(struct radio_params, up_mbps),
     1},
    {{"down_mbps", 0.001, 100000, false, false, false, false, false, 0,
      "a number of Mbit/s from 0.001 to 100000"},
     offsetof(struct radio_params, down_mbps),
     1},
    {{"battery_wh", 0.1, 1000, false, false, false, false, false, 0,
      "a number of watt-hours from 0.1 to 1000"},
     offsetof(struct radio_params, battery_wh),
     1},
};

int scenario_parse_target(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char *const keys[] = {"users", "egress_usd_per_gb"};
    const cJSON *t;
    s->target_users = target_users.def;
    s->egress_usd_per_gb = egress_price.def;
    if (fields_get_object(c, root, "target", "an object with users and egress_usd_per_gb",
                          &t) != 0)
        return -1;
    if (!t)
        return 0;
    if (fields_check_keys(c, t, "target", keys, N_OF(keys), "") != 0 ||
        fields_get_scalar(c, t, "target", &target_users, &s->target_users) < 0 ||
        fields_get_scalar(c, t, "target", &egress_price, &s->egress_usd_per_gb) < 0)
        return -1;
    return 0;
}

int scenario_parse_radio(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char *const models[] = {"lte", "3g"};
    const char *keys[N_OF(radio_fields) + 1];
    const cJSON *r;
    radio_defaults(RADIO_LTE, &s->radio);
    if (fields_get_object(c, root, "radio", "an object with a model and its overrides",
                          &r) != 0)
        return -1;
    if (!r)
        return 0;
    keys[0] = "model";
    for (size_t i = 0; i < N_OF(radio_fields); i++)
        keys[i + 1] = radio_fields[i].spec.name;
    int model;
    if (fields_check_keys(c, r, "radio", keys, N_OF(keys), "") != 0 ||
        fields_get_enum(c, r, "radio", "model", false, models, N_OF(models),
                        "\"lte\" or \"3g\"", RADIO_LTE, &model) != 0)
        return -1;
    radio_defaults((enum radio_model)model, &s->radio);
    for (size_t i = 0; i < N_OF(radio_fields); i++) {
        const struct radio_field *f = &radio_fields[i];
        double *member = (double *)((char *)&s->radio + f->offset);
        struct field_spec spec = f->spec;
        spec.def = *member / f->scale;
        double v;
        if (fields_get_scalar(c, r, "radio", &spec, &v) < 0)
            return -1;
        *member = v * f->scale;
    }
    return 0;
}

void scenario_radio_to_json(const struct radio_params *p, cJSON *obj)
{
    cJSON_AddStringToObject(obj, "model", radio_model_name(p->model));
    for (size_t i = 0; i < N_OF(radio_fields); i++) {
        const struct radio_field *f = &radio_fields[i];
        double v = *(const double *)((const char *)p + f->offset);
        cJSON_AddNumberToObject(obj, f->spec.name, v / f->scale);
    }
}

int scenario_radio_from_json(const cJSON *obj, struct radio_params *p)
{
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(obj, "model");
    if (!cJSON_IsString(model))
        return -1;
    if (strcmp(model->valuestring, "lte") == 0)
        radio_defaults(RADIO_LTE, p);
    else if (strcmp(model->valuestring, "3g") == 0)
        radio_defaults(RADIO_3G, p);
    else
        return -1;
    for (size_t i = 0; i < N_OF(radio_fields); i++) {
        const struct radio_field *f = &radio_fields[i];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, f->spec.name);
        if (cJSON_IsNumber(v))
            *(double *)((char *)p + f->offset) = v->valuedouble * f->scale;
    }
    return 0;
}
