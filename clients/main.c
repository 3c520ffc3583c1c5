/* main.c: pushpull-client: read the command line, run the measurement, report it.
 *
 * Exit status: 0 after a run whose users were served; 3 after a run whose users received
 * nothing at all (report_verdict: no update, and no answer, or errors or anomalies), with
 * one line on stderr saying why, after the summary and the files were written; 1 when
 * the run could not be made (server unreachable at setup, out of descriptors, a file
 * could not be written); 2 for a bad command line. The flags, their defaults and the
 * usage text live in cli.c. `pushpull-client merge` (merge.h) adds up the results of a
 * run's partitions instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "dynbuf.h"
#include "merge.h"
#include "report.h"
#include "report_files.h"
#include "run.h"

/* The command line as one string, arguments with blanks quoted, for the metadata. */
static char *join_argv(int argc, char **argv)
{
    struct dynbuf b;
    dynbuf_init(&b, 1 << 20);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool quote = a[0] == '\0' || strpbrk(a, " \t'\"") != NULL;
        if ((i && dynbuf_adds(&b, " ") != 0) ||
            dynbuf_addf(&b, quote ? "'%s'" : "%s", a) != 0)
            return NULL;
    }
    return dynbuf_take(&b);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "merge") == 0)
        return merge_main(argc - 1, argv + 1);
    struct client_config cfg;
    char err[512];
    enum cli_result cr = cli_parse(argc, argv, &cfg, err, sizeof(err));
    if (cr != CLI_RUN) {
        if (cr == CLI_ERROR)
            fprintf(stderr, "pushpull-client: %s\n", err);
        cli_config_free(&cfg);
        return cr == CLI_ERROR ? 2 : 0;
    }
    CURLcode gc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (gc != CURLE_OK) {
        fprintf(stderr, "pushpull-client: curl_global_init: %s\n", curl_easy_strerror(gc));
        cli_config_free(&cfg);
        return 1;
    }
    int status = 0;
    char *cmdline = join_argv(argc, argv);
    struct run *run = NULL;
    if (run_execute(&cfg, &run, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-client: %s\n", err);
        status = 1;
        goto end;
    }
    const struct run_results *res = run_results(run);
    report_print_summary(stdout, res);
    if (cfg.out_dir &&
        report_write_files(cfg.out_dir, res, cmdline, argv, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-client: %s\n", err);
        status = 1;
    } else if (report_verdict(res, err, sizeof(err)) != 0) {
        fprintf(stderr, "pushpull-client: %s\n", err);
        status = 3;
    }
end:
    run_free(run);
    free(cmdline);
    cli_config_free(&cfg);
    curl_global_cleanup();
    return status;
}
