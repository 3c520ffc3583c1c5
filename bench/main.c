/* main.c: pushpull-bench, the lab server measured beside nginx + nchan.
 *
 * Three commands in one program: `pushpull-bench [run] [options]` runs the workloads
 * against both servers (bench_run.c); `pushpull-bench client ...` is the reference
 * client the workloads use as their load (client_cmd.c), started by the run as a process
 * of its own; and `pushpull-bench floor` is the least server for the poll workloads
 * (floor.c), the machine's ceiling the bench holds both servers to.
 */
#include <string.h>

#include "bench_run.h"
#include "client_cmd.h"
#include "floor.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "client") == 0)
        return client_cmd_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "floor") == 0)
        return floor_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return bench_run_main(argc - 1, argv + 1);
    return bench_run_main(argc, argv);
}
