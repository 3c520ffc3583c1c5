/* scenario_approaches.c: the scenario's "approaches" and its "quick" overrides, both
 * read against the approach table (lab/approach.h): an entry's kind names a row (by its
 * name, or by its alias: "websocket" is "ws", the client's word), and the
 * row lists the keys that entry may have and describes each setting; a quick key names a
 * scenario field or a setting of any row (a setting two rows share is overridden in
 * both, each checked by its own row's spec).
 */
#include "scenario_impl.h"

#include <stdio.h>
#include <string.h>

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The keys an entry of approach a may have, "kind" first, then its settings and its
 * choice; their count. */
static size_t approach_keys(const struct lab_approach *a, const char **keys)
{
    size_t n = 0;
    keys[n++] = "kind";
    for (size_t k = 0; k < a->n_settings; k++)
        keys[n++] = a->settings[k].name;
    if (a->choice)
        keys[n++] = a->choice->key;
    return n;
}

/* Every key an entry of any approach may have, each once, in table order. */
static size_t any_approach_keys(const char **keys)
{
    size_t n = 0;
    for (size_t i = 0; i < lab_approach_count(); i++) {
        const char *mine[LAB_MAX_SETTINGS + 2];
        size_t m = approach_keys(lab_approach_at(i), mine);
        for (size_t k = 0; k < m && n < FIELDS_MAX_KEYS; k++)
            if (fields_find_name(keys, n, mine[k]) == n)
                keys[n++] = mine[k];
    }
    return n;
}

/* names spelled out for a message: "\"a\", \"b\" or \"c\"". */
static void spell_names(char *out, size_t cap, const char *const *names, size_t n)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s\"%s\"",
                 i == 0       ? ""
                 : i + 1 == n ? " or "
                              : ", ",
                 names[i]);
    }
}

/* An entry whose kind is a row's alias ("websocket" for "ws"): 1 with the row's index in
 * *kind; 0 when it is not one (the kind is then read as a name, and checked). */
static int kind_alias(const cJSON *entry, int *kind)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(entry, "kind");
    for (size_t i = 0; cJSON_IsString(k) && i < lab_approach_count(); i++) {
        const char *alias = lab_approach_at(i)->alias;
        if (alias && strcmp(alias, k->valuestring) == 0) {
            *kind = (int)i;
            return 1;
        }
    }
    return 0;
}

static int parse_approach(struct fields_ctx *c, const cJSON *it, const char *path,
                          struct scenario_approach *a)
{
    const char *names[LAB_MAX_APPROACHES], *keys[FIELDS_MAX_KEYS];
    size_t n_names = lab_approach_count();
    for (size_t i = 0; i < n_names; i++)
        names[i] = lab_approach_at(i)->name;
    char kind_expect[160];
    spell_names(kind_expect, sizeof(kind_expect), names, n_names);
    if (!cJSON_IsObject(it))
        return fields_fail_expected(c, path, "an object with a kind", it);
    if (fields_check_keys(c, it, path, keys, any_approach_keys(keys), "") != 0)
        return -1;
    int kind;
    if (kind_alias(it, &kind) == 0 && fields_get_enum(c, it, path, "kind", true, names,
                                                      n_names, kind_expect, 0, &kind) != 0)
        return -1;
    a->approach = lab_approach_at((size_t)kind);
    char what[64];
    snprintf(what, sizeof(what), " for kind \"%s\"", a->approach->name);
    if (fields_check_keys(c, it, path, keys, approach_keys(a->approach, keys), what) != 0)
        return -1;
    const struct lab_choice *ch = a->approach->choice;
    int choice = 0;
    if (ch && fields_get_enum(c, it, path, ch->key, false, ch->values, ch->n_values,
                              ch->expect, 0, &choice) != 0)
        return -1;
    a->choice = (unsigned)choice;
    for (size_t k = 0; k < a->approach->n_settings; k++)
        if (fields_get_sweep(c, it, path, &a->approach->settings[k], &a->set[k]) < 0)
            return -1;
    return 0;
}

int scenario_parse_approaches(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    static const char expect[] = "a non-empty list of at most 16 approach objects";
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "approaches");
    if (!list)
        return fields_fail_missing(c, "approaches", expect);
    if (!cJSON_IsArray(list) || !list->child)
        return fields_fail_expected(c, "approaches", expect, list);
    size_t i = 0;
    for (const cJSON *it = list->child; it; it = it->next, i++) {
        if (i == SCENARIO_MAX_APPROACHES) {
            size_t n = i;
            for (const cJSON *e = it; e; e = e->next)
                n++;
            char got[32];
            snprintf(got, sizeof(got), "a list of %zu", n);
            return fields_fail_got(c, "approaches", expect, got);
        }
        char p[FIELDS_PATH];
        fields_path_index(p, sizeof(p), "approaches", i);
        if (parse_approach(c, it, p, &s->approaches[i]) != 0)
            return -1;
    }
    s->n_approaches = i;
    return 0;
}

/* Whether some entry of "approaches" is of table row `row`. */
static bool has_approach(const struct scenario *s, size_t row)
{
    for (size_t i = 0; i < s->n_approaches; i++)
        if (lab_approach_index(s->approaches[i].approach) == row)
            return true;
    return false;
}

/* The index of the setting named key in row a, or -1. */
static int setting_index(const struct lab_approach *a, const char *key)
{
    for (size_t k = 0; k < a->n_settings; k++)
        if (strcmp(a->settings[k].name, key) == 0)
            return (int)k;
    return -1;
}

/* The quick keys, in the order they are checked: the workload's (its messages too),
 * every approach's
 * settings (a name two approaches share once), the network's, the restart's. */
static size_t quick_keys(const char **keys)
{
    static const enum field workload[] = {F_DURATION, F_WARMUP,  F_CLIENTS,   F_RATE,
                                          F_BURST,    F_PAYLOAD, F_SEND_RATE, F_SEND_BYTES};
    size_t n = 0;
    for (size_t i = 0; i < N_OF(workload); i++)
        keys[n++] = scenario_specs[workload[i]].name;
    for (size_t i = 0; i < lab_approach_count(); i++) {
        const struct lab_approach *a = lab_approach_at(i);
        for (size_t k = 0; k < a->n_settings && n < FIELDS_MAX_KEYS; k++)
            if (fields_find_name(keys, n, a->settings[k].name) == n)
                keys[n++] = a->settings[k].name;
    }
    for (size_t i = 0; i < N_NETWORK && n < FIELDS_MAX_KEYS; i++)
        keys[n++] = scenario_specs[scenario_network_ids[i]].name;
    for (size_t i = 0; i < 2 && n < FIELDS_MAX_KEYS; i++) /* at_s, down_s; not feed */
        keys[n++] = scenario_specs[scenario_restart_ids[i]].name;
    return n;
}

/* quick.KEY for an approach setting: the value of every row that has KEY, checked by each
 * row's spec; an error when no entry of "approaches" is of such a row. */
static int parse_quick_setting(struct fields_ctx *c, const cJSON *it, const char *path,
                               const char *key, struct scenario *s)
{
    const char *kinds[LAB_MAX_APPROACHES];
    size_t n_kinds = 0;
    bool used = false;
    for (size_t row = 0; row < lab_approach_count(); row++) {
        const struct lab_approach *a = lab_approach_at(row);
        if (setting_index(a, key) < 0)
            continue;
        kinds[n_kinds++] = a->name;
        used = used || has_approach(s, row);
    }
    if (!used) {
        char names[160], expect[200];
        spell_names(names, sizeof(names), kinds, n_kinds);
        snprintf(expect, sizeof(expect), "no value when no approach has kind %s", names);
        return fields_fail_expected(c, path, expect, it);
    }
    for (size_t row = 0; row < lab_approach_count(); row++) {
        const struct lab_approach *a = lab_approach_at(row);
        int k = setting_index(a, key);
        if (k >= 0 &&
            fields_parse_sweep(c, it, path, &a->settings[k], &s->quick_set[row][k]) != 0)
            return -1;
    }
    return 0;
}

/* quick.KEY for one of the scenario's own fields. */
static int parse_quick_field(struct fields_ctx *c, const cJSON *it, const char *path,
                             enum field f, struct scenario *s)
{
    if (f == F_RATE && s->process == SCENARIO_TRACE)
        return fields_fail_expected(
            c, path, "no value with process \"trace\" (the trace sets the times)", it);
    if (f == F_BURST && s->process != SCENARIO_BURST)
        return fields_fail_expected(c, path, "no value unless process is \"burst\"", it);
    if ((f == F_AT || f == F_DOWN) && !s->restart_on)
        return fields_fail_expected(c, path, "no value when the scenario has no restart",
                                    it);
    return fields_parse_sweep(c, it, path, &scenario_specs[f], &s->quick_field[f]);
}

int scenario_parse_quick(struct fields_ctx *c, const cJSON *root, struct scenario *s)
{
    const cJSON *q;
    if (fields_get_object(c, root, "quick", "an object of overrides", &q) != 0)
        return -1;
    if (!q)
        return 0;
    const char *keys[FIELDS_MAX_KEYS];
    size_t n = quick_keys(keys);
    if (fields_check_keys(c, q, "quick", keys, n, "") != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(q, keys[i]);
        if (!it)
            continue;
        char p[FIELDS_PATH];
        fields_path_key(p, sizeof(p), "quick", keys[i]);
        size_t f = 0;
        while (f < F_COUNT && strcmp(scenario_specs[f].name, keys[i]) != 0)
            f++;
        int rc = f < F_COUNT ? parse_quick_field(c, it, p, (enum field)f, s)
                             : parse_quick_setting(c, it, p, keys[i], s);
        if (rc != 0)
            return -1;
    }
    return 0;
}
