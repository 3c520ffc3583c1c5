/* flags.c: one-line command-line errors (see flags.h). */
#include "flags.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "units.h"

static const char *program = "pushpull";

void flags_program(const char *name)
{
    program = name;
    opterr = 0;
}

void flags_bad_value(const char *flag, const char *expected, const char *got)
{
    fprintf(stderr, "%s: --%s: expected %s, got \"%s\"\n", program, flag, expected, got);
    exit(2);
}

uint64_t flags_count(const char *flag, const char *v, uint64_t lo, uint64_t hi)
{
    uint64_t n;
    if (units_parse_count(v, &n) != 0 || n < lo || n > hi) {
        char expected[96];
        snprintf(expected, sizeof(expected), "a whole number from %llu to %llu",
                 (unsigned long long)lo, (unsigned long long)hi);
        flags_bad_value(flag, expected, v);
    }
    return n;
}

void flags_getopt_error(int c, char *const argv[])
{
    fprintf(stderr, "%s: %s: %s (see --help)\n", program, argv[optind - 1],
            c == ':' ? "expects a value" : "unknown option");
    exit(2);
}

void flags_no_operands(int argc, char *const argv[])
{
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\" (options start with --)\n", program,
                argv[optind]);
        exit(2);
    }
}
