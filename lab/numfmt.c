/* numfmt.c: plain numbers for people (see numfmt.h).
 *
 * printf's %g switches to exponent notation for large and small values, which a reader
 * pasting a table into a decision record should never meet. The decimals are derived
 * from the significant digits wanted instead, and %f does the rounding; commas are put
 * into the integer part afterwards.
 */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DECIMALS 6

/* Commas between groups of three digits of text's integer part, in place (cap bytes). */
static void group_thousands(char *text, size_t cap)
{
    char *digits = text + (text[0] == '-');
    size_t int_len = strcspn(digits, ".");
    if (int_len < 5) /* 9999 stays as it is; grouping starts at 10,000 */
        return;
    size_t commas = (int_len - 1) / 3, len = strlen(text);
    if (len + commas + 1 > cap)
        return;
    /* move from the end, inserting a comma every three integer digits */
    char *src = text + len, *dst = text + len + commas;
    char *int_end = digits + int_len;
    while (src >= int_end)
        *dst-- = *src--;
    size_t k = 0;
    while (src >= digits) {
        *dst-- = *src--;
        if (++k % 3 == 0 && src >= digits)
            *dst-- = ',';
    }
}

const char *numfmt(char *buf, size_t len, double v, int sig)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    if (v == 0) {
        snprintf(buf, len, "0");
        return buf;
    }
    double a = fabs(v);
    int mag = (int)floor(log10(a)); /* 1970: 3, 0.042: -2 */
    int decimals = sig - 1 - mag;
    if (decimals < 0)
        decimals = 0;
    if (decimals > MAX_DECIMALS) {
        if (a < 0.5 * pow(10, -MAX_DECIMALS)) {
            snprintf(buf, len, "≈0");
            return buf;
        }
        decimals = MAX_DECIMALS;
    }
    /* round whole numbers to sig digits too (123456 with 3: 123,000), never further
     * than the units */
    double shown = v;
    if (decimals == 0 && mag + 1 > sig) {
        double unit = pow(10, mag + 1 - sig);
        shown = round(v / unit) * unit;
    }
    snprintf(buf, len, "%.*f", decimals, shown);
    if (strchr(buf, '.')) { /* "0.200" -> "0.2", "1.00" -> "1" */
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '0')
            buf[--n] = '\0';
        if (n > 0 && buf[n - 1] == '.')
            buf[--n] = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, len, "0");
    group_thousands(buf, len);
    return buf;
}

const char *numfmt_int(char *buf, size_t len, double v)
{
    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "-");
        return buf;
    }
    snprintf(buf, len, "%.0f", v);
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, len, "0");
    group_thousands(buf, len);
    return buf;
}

const char *numfmt_pct(char *buf, size_t len, double share, int sig)
{
    if (isnan(share) || isinf(share)) {
        snprintf(buf, len, "-");
        return buf;
    }
    char num[NUMFMT_LEN];
    double pct = share * 100;
    if (pct != 0 && fabs(pct) < 10 && sig < 2)
        sig = 2;
    numfmt(num, sizeof(num), pct, sig);
    snprintf(buf, len, "%s%%", num);
    return buf;
}
