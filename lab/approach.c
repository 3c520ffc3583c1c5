/* approach.c: the table of approaches (see approach.h). Each row is defined in its own
 * file; this list is the only place that names them all, and its order is the order in
 * which messages, reports and plots list them.
 */
#include "approach.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct lab_approach *const table[] = {
    &lab_approach_short,
    &lab_approach_long,
    &lab_approach_sse,
};
_Static_assert(sizeof(table) / sizeof(table[0]) <= LAB_MAX_APPROACHES,
               "LAB_MAX_APPROACHES bounds the table");

size_t lab_approach_count(void)
{
    return sizeof(table) / sizeof(table[0]);
}

const struct lab_approach *lab_approach_at(size_t i)
{
    return i < lab_approach_count() ? table[i] : NULL;
}

const struct lab_approach *lab_approach_find(const char *name)
{
    for (size_t i = 0; i < lab_approach_count(); i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

size_t lab_approach_index(const struct lab_approach *a)
{
    for (size_t i = 0; i < lab_approach_count(); i++)
        if (table[i] == a)
            return i;
    return lab_approach_count();
}

void lab_approach_settings_of(const struct lab_approach *a, const cJSON *settings,
                              double *set)
{
    for (size_t k = 0; k < a->n_settings; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(settings, a->settings[k].name);
        set[k] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    }
}

void lab_style_add_swept(const struct lab_approach *a, const cJSON *swept,
                         struct lab_style *s)
{
    for (size_t k = 0; k < a->n_settings; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(swept, a->settings[k].name);
        if (!cJSON_IsNumber(v))
            continue;
        size_t len = strlen(s->label_detail);
        snprintf(s->label_detail + len, sizeof(s->label_detail) - len, "%s%s=%g",
                 len ? "; " : "", a->settings[k].name, v->valuedouble);
    }
}
