/* units.c: parsers for command-line values with units (see units.h for the contract).
 *
 * All of them read a non-negative decimal with strtod, then a unit suffix from a small
 * table, and reject anything left over. strtod accepts "inf", "nan" and hex floats; they
 * are refused here by requiring the string to start with a digit or a point and by
 * refusing an 'x' in the number.
 */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct unit {
    const char *suffix;
    double scale;
};

/* Read "<number><suffix>" with the suffix looked up in `units` (the empty suffix means
 * `bare`). Fails on a sign, junk, an unknown suffix, or a result beyond `limit`. */
static int parse_scaled(const char *s, const struct unit *units, double bare, double limit,
                        double *out)
{
    if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
        return -1;
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v) || v < 0)
        return -1;
    for (const char *c = s; c < end; c++) {
        if (*c == 'x' || *c == 'X') /* a hex float: nobody types "0x1p4s" for a duration */
            return -1;
    }
    double scale = 0;
    if (*end == '\0') {
        scale = bare;
    } else {
        for (const struct unit *u = units; u->suffix; u++) {
            if (strcmp(end, u->suffix) == 0) {
                scale = u->scale;
                break;
            }
        }
        if (scale == 0)
            return -1;
    }
    double r = v * scale;
    if (!isfinite(r) || r > limit)
        return -1;
    *out = r;
    return 0;
}

int units_parse_duration_ns(const char *s, int64_t bare_unit_ns, int64_t *out)
{
    static const struct unit units[] = {{"ns", 1.0}, {"us", 1e3},   {"ms", 1e6}, {"s", 1e9},
                                        {"m", 60e9}, {"h", 3600e9}, {0, 0}};
    double v;
    if (parse_scaled(s, units, (double)bare_unit_ns, 9.2e18, &v) != 0)
        return -1;
    *out = (int64_t)llround(v);
    return 0;
}

int units_parse_count(const char *s, uint64_t *out)
{
    static const struct unit units[] = {{"k", 1e3}, {"M", 1e6}, {0, 0}};
    double v;
    if (parse_scaled(s, units, 1.0, 1.8e19, &v) != 0 || v != floor(v))
        return -1;
    *out = (uint64_t)v;
    return 0;
}

int units_parse_number(const char *s, double *out)
{
    static const struct unit none[] = {{0, 0}};
    return parse_scaled(s, none, 1.0, 1e300, out);
}

int units_parse_bitrate(const char *s, uint64_t *out_bits_per_s)
{
    static const struct unit units[] = {
        {"bit", 1.0}, {"kbit", 1e3}, {"mbit", 1e6}, {"gbit", 1e9}, {0, 0}};
    double v;
    if (parse_scaled(s, units, 1.0, 1e15, &v) != 0)
        return -1;
    *out_bits_per_s = (uint64_t)llround(v);
    return 0;
}
