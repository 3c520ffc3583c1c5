/* main.c: pushpull-bench. For now one command: `pushpull-bench client ...`, the reference
 * client (client_cmd.c), the raw-socket yardstick the benchmark will use as its load.
 */
#include <stdio.h>
#include <string.h>

#include "client_cmd.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "client") == 0)
        return client_cmd_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: pushpull-bench client --help\n");
    return 2;
}
