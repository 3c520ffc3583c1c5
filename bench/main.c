/* main.c: pushpull-bench, the lab server measured beside nginx + nchan.
 *
 * Two commands in one program: `pushpull-bench [run] [options]` runs the workloads
 * against both servers (bench_run.c), and `pushpull-bench client ...` is the reference
 * client the workloads use as their load (client_cmd.c), started by the run as a process
 * of its own.
 */
#include <string.h>

#include "bench_run.h"
#include "client_cmd.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "client") == 0)
        return client_cmd_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return bench_run_main(argc - 1, argv + 1);
    return bench_run_main(argc, argv);
}
