/* cli_impl.h: what the command line's two files share (cli.c, cli_options.c); not for
 * other files, which see cli.h only.
 */
#ifndef PUSHPULL_CLI_IMPL_H
#define PUSHPULL_CLI_IMPL_H

#include <stddef.h>

#include "cli.h"

/* Parses value into cfg: 0, or -1 with one line in err naming --flag. */
typedef int (*setter_fn)(struct client_config *cfg, const char *value, char *err,
                         size_t errlen, const char *flag);

struct option_row {
    const char *name;    /* long name without the dashes */
    int short_name;      /* 0 when there is none */
    const char *metavar; /* value syntax in the usage text; NULL for a switch */
    const char *def;     /* the default, as typed on a command line; NULL: none */
    const char *help;    /* one line */
    setter_fn set;       /* parses the value into cfg; NULL for --help/--version */
};

/* The rows, in usage order (cli_options.c), CLI_N_OPTIONS of them: a static assertion
 * beside the definition fails the build when a row is added or removed without it. */
#define CLI_N_OPTIONS 37
extern const struct option_row cli_options[];

#endif
