/* numfmt.h: numbers as a person reads them in the report, its tables and the closing
 * table: plain digits, never exponent notation ("1970", not "1.97e+03"; "0.00042", not
 * "4.2e-04"), thousands grouped with commas from 10,000 up, a stated number of
 * significant digits, "-" for a value that is unknown (NAN) and "≈0" for one too small
 * to show at that precision.
 */
#ifndef PUSHPULL_LAB_NUMFMT_H
#define PUSHPULL_LAB_NUMFMT_H

#include <stddef.h>

#define NUMFMT_LEN 48 /* room for any number numfmt writes, NUL included */

/* v with at most sig significant digits (and at most 6 decimals: below 0.000001 it is
 * "≈0"), trailing zeros of the fraction dropped ("0.2", "1", not "0.200", "1.00"); a
 * large number is rounded to sig digits too ("1,230,000"). Returns buf. */
const char *numfmt(char *buf, size_t len, double v, int sig);
/* v rounded to a whole number, thousands grouped ("447,548"); "-" for NAN. */
const char *numfmt_int(char *buf, size_t len, double v);
/* A share in percent: 0.0321 -> "3.2%" (sig significant digits, at least one decimal
 * below 10%, "0%" for 0 exactly). Returns buf. */
const char *numfmt_pct(char *buf, size_t len, double share, int sig);

#endif
