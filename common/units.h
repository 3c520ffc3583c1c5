/* units.h: parse the values people type on command lines: 250ms, 30s, 10k, 1mbit, 2.5.
 *
 * Every parser takes the whole string (no trailing junk, no sign, no empty string),
 * checks for overflow, and returns 0 on success or -1 with *out untouched, so a caller
 * can print one precise line naming the flag and the value it could not read.
 */
#ifndef PUSHPULL_UNITS_H
#define PUSHPULL_UNITS_H

#include <stdint.h>

/* A duration: a decimal number with an optional unit ns, us, ms, s, m or h. A bare
 * number is in `bare_unit_ns` (NS_PER_S for a flag documented in seconds). */
int units_parse_duration_ns(const char *s, int64_t bare_unit_ns, int64_t *out);
/* A whole count with an optional suffix k (1000) or M (1000000): "10k" -> 10000. */
int units_parse_count(const char *s, uint64_t *out);
/* A non-negative decimal number, such as a rate in Hz: "2", "0.5", "1e3". */
int units_parse_number(const char *s, double *out);
/* A bit rate: a number with an optional unit bit, kbit, mbit or gbit (bits per second). */
int units_parse_bitrate(const char *s, uint64_t *out_bits_per_s);

#endif
