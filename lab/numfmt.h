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

/* v with sig significant digits (at most 6 decimals: below 0.000001 it is "≈0"); the
 * digits of a whole number are all kept ("50,000", "1,234,567"). Returns buf. */
const char *numfmt(char *buf, size_t len, double v, int sig);
/* A share in percent: 0.0321 -> "3.2%" (sig significant digits, at least one decimal
 * below 10%, "0%" for 0 exactly). Returns buf. */
const char *numfmt_pct(char *buf, size_t len, double share, int sig);

#endif
