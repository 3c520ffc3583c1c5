/* flags.h: the one-line answers a pushpull program gives a bad command line.
 *
 * Every program names itself, the flag, what it expected and what it got, on one line of
 * stderr, and exits with status 2; getopt's own messages are switched off (opterr = 0)
 * so nothing else is printed. Programs call flags_program() once, first.
 */
#ifndef PUSHPULL_FLAGS_H
#define PUSHPULL_FLAGS_H

#include <stdint.h>

/* The name the messages start with, e.g. "pushpull-server" (not copied: a literal). */
void flags_program(const char *name);
/* "NAME: --FLAG: expected EXPECTED, got "GOT"" and exit 2. */
_Noreturn void flags_bad_value(const char *flag, const char *expected, const char *got);
/* A whole count from lo to hi (k and M suffixes), or flags_bad_value. */
uint64_t flags_count(const char *flag, const char *v, uint64_t lo, uint64_t hi);
/* getopt_long returned ':' (a value is missing) or '?' (an unknown option): say which
 * and exit 2. Pass getopt's return and argv. */
_Noreturn void flags_getopt_error(int c, char *const argv[]);
/* Anything left after the options is an error: one line and exit 2. */
void flags_no_operands(int argc, char *const argv[]);

#endif
