/* cli.c: the command line read through the option table, the usage text made from it,
 * the checks between flags, and the names and derived values of the settings.
 *
 * The table and its setters live in cli_options.c (cli_impl.h). cli_parse first runs every
 * setter on its default string, then on the user's values, then checks the settings that
 * only make sense together (the URL's scheme and the protocol, TLS and its certificate, the
 * raw driver and plain HTTP/1.1); each failure is one line naming the flag, which the
 * caller prints before exiting non-zero. The usage text is printed from the same rows.
 */
#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_impl.h"
#include "clock.h"
#include "foreign.h"
#include "partition.h"

void cli_usage(FILE *out)
{
    fprintf(out, "usage: pushpull-client [options]\n\n"
                 "Simulates many browser tabs following one pushpull server by short "
                 "polling,\nlong polling, Server-Sent Events or WebSocket, and measures "
                 "what each costs\nand delivers.\n\n");
    for (size_t i = 0; i < CLI_N_OPTIONS; i++) {
        const struct option_row *o = &cli_options[i];
        char left[48];
        char shortpart[8] = "    ";
        if (o->short_name)
            snprintf(shortpart, sizeof(shortpart), "-%c, ", o->short_name);
        snprintf(left, sizeof(left), "%s--%s%s%s", shortpart, o->name,
                 o->metavar ? " " : "", o->metavar ? o->metavar : "");
        if (o->def && o->def[0])
            fprintf(out, "  %-30s %s (default %s)\n", left, o->help, o->def);
        else
            fprintf(out, "  %-30s %s\n", left, o->help);
    }
    fprintf(out, "\nDurations take a unit: 250ms, 30s, 2m, 1h (a bare number means "
                 "seconds).\nCounts take k and M: 10k. Sizes take B, k, M, KiB, MiB, GiB: "
                 "4MiB.\nResults: an aligned summary on stdout; with --out, files. Exit "
                 "status: 0 after a\nrun, 3 after a run whose users received nothing "
                 "(one line on stderr says why),\n1 when the run could not be made, 2 for "
                 "a bad command line.\n");
}

/* The settings that only make sense together: the URL's scheme and the protocol, TLS and
 * its certificate, a WebSocket and HTTP/1.1. */
static enum cli_result check_protocol(const struct client_config *cfg, char *err,
                                      size_t errlen)
{
    const char *proto = cli_protocol_name(cfg->protocol);
    int tls = cli_protocol_tls(cfg->protocol);
    int https = strncmp(cfg->server, "https://", 8) == 0;
    if (tls != https) {
        snprintf(err, errlen, "--server %s: --protocol %s expects an %s URL", cfg->server,
                 proto, tls ? "https://" : "http://");
        return CLI_ERROR;
    }
    if (tls && !cfg->cacert) {
        snprintf(err, errlen,
                 "--protocol %s needs --cacert FILE: the one certificate to trust", proto);
        return CLI_ERROR;
    }
    /* A WebSocket is an HTTP/1.1 upgrade under every protocol: plain for http1 and h2c
     * (the front takes HTTP/1.1 on its plain port), over TLS with ALPN http/1.1 for
     * https1 and h2 (RFC 8441's WebSocket over HTTP/2 is in neither libcurl 7.88 nor
     * most fronts); ws_tls.h. */
    /* The raw driver speaks plain HTTP/1.1 with a connection per user, nothing else. */
    if (cfg->http_driver == HTTP_DRIVER_RAW &&
        (cfg->protocol != PROTO_HTTP1 || cfg->users_per_connection > 1)) {
        snprintf(err, errlen,
                 "--http-driver raw speaks plain HTTP/1.1 with a connection per user: not "
                 "with --protocol %s or --users-per-connection %u (use curl or auto)",
                 proto, cfg->users_per_connection);
        return CLI_ERROR;
    }
    return CLI_RUN;
}

static const struct option_row *find_short(int c)
{
    for (size_t i = 0; i < CLI_N_OPTIONS; i++)
        if (cli_options[i].short_name == c)
            return &cli_options[i];
    return NULL;
}

enum cli_result cli_parse(int argc, char *const argv[], struct client_config *cfg,
                          char *err, size_t errlen)
{
    struct option longopts[CLI_N_OPTIONS + 1];
    char shortopts[3 * CLI_N_OPTIONS + 2];
    size_t s = 0;

    memset(cfg, 0, sizeof(*cfg));
    shortopts[s++] = ':'; /* report a missing value as ':' */
    for (size_t i = 0; i < CLI_N_OPTIONS; i++) {
        const struct option_row *o = &cli_options[i];
        longopts[i].name = o->name;
        longopts[i].has_arg = o->metavar ? required_argument : no_argument;
        longopts[i].flag = NULL;
        longopts[i].val = o->short_name ? o->short_name : 256 + (int)i;
        if (o->short_name) {
            shortopts[s++] = (char)o->short_name;
            if (o->metavar)
                shortopts[s++] = ':';
        }
        if (o->set && o->def && o->set(cfg, o->def, err, errlen, o->name) != 0)
            return CLI_ERROR; /* a broken default is a bug, but say so */
    }
    shortopts[s] = '\0';
    memset(&longopts[CLI_N_OPTIONS], 0, sizeof(longopts[CLI_N_OPTIONS]));

    optind = 0; /* GNU: full reinitialisation, so repeated calls work */
    opterr = 0;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, shortopts, longopts, &idx);
        if (c == -1)
            break;
        if (c == '?') {
            if (optopt && optopt < 256)
                snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
            else
                snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
            return CLI_ERROR;
        }
        if (c == ':') {
            snprintf(err, errlen, "option '%s' needs a value (see --help)",
                     argv[optind - 1]);
            return CLI_ERROR;
        }
        const struct option_row *o = c >= 256 ? &cli_options[c - 256] : find_short(c);
        if (!o)
            continue;
        if (strcmp(o->name, "help") == 0) {
            cli_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(o->name, "version") == 0) {
            printf("pushpull-client %s\n", PUSHPULL_CLIENT_VERSION);
            return CLI_EXIT_OK;
        }
        if (o->set(cfg, optarg, err, errlen, o->name) != 0)
            return CLI_ERROR;
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (all settings are --flags)",
                 argv[optind]);
        return CLI_ERROR;
    }
    /* --clients is the population; this process runs its partition's share */
    cfg->clients_total = cfg->clients;
    cfg->clients =
        partition_users(cfg->clients_total, cfg->partition_index, cfg->partition_count);
    if (cfg->clients == 0) {
        snprintf(err, errlen,
                 "--partition %u/%u: --clients %u leaves this partition no users (at most "
                 "%u partitions)",
                 cfg->partition_index, cfg->partition_count, cfg->clients_total,
                 cfg->clients_total);
        return CLI_ERROR;
    }
    if (cfg->users_per_connection > 1 && strchr(cfg->server, ',')) {
        snprintf(
            err, errlen,
            "--server with several URLs moves each user on its own (failover): not with "
            "--users-per-connection %u, whose users share one connection",
            cfg->users_per_connection);
        return CLI_ERROR;
    }
    if (cfg->foreign_url && strchr(cfg->server, ',')) {
        snprintf(err, errlen, "--url: a foreign server takes one --server URL, got '%s'",
                 cfg->server);
        return CLI_ERROR;
    }
    if (check_protocol(cfg, err, errlen) != CLI_RUN)
        return CLI_ERROR;
    return foreign_check(cfg, err, errlen) == 0 ? CLI_RUN : CLI_ERROR;
}

void cli_config_free(struct client_config *cfg)
{
    free(cfg->server);
    free(cfg->cacert);
    free(cfg->headers);
    free(cfg->out_dir);
    free(cfg->label);
    free(cfg->foreign_url);
    free(cfg->observer_url);
    free(cfg->publish_url);
    memset(cfg, 0, sizeof(*cfg));
}

const char *cli_approach_name(enum approach a)
{
    switch (a) {
    case APPROACH_SHORT:
        return "short";
    case APPROACH_LONG:
        return "long";
    case APPROACH_SSE:
        return "sse";
    case APPROACH_WS:
        return "ws";
    }
    return "?";
}

const char *cli_protocol_name(enum protocol p)
{
    switch (p) {
    case PROTO_HTTP1:
        return "http1";
    case PROTO_HTTPS1:
        return "https1";
    case PROTO_H2C:
        return "h2c";
    case PROTO_H2:
        return "h2";
    }
    return "?";
}

int cli_protocol_tls(enum protocol p)
{
    return p == PROTO_HTTPS1 || p == PROTO_H2;
}

const char *cli_poll_name(enum poll_mode m)
{
    return m == POLL_EVENTS ? "events" : "state";
}

const char *cli_http_driver_name(enum http_driver d)
{
    return d == HTTP_DRIVER_CURL ? "curl" : d == HTTP_DRIVER_RAW ? "raw" : "auto";
}

enum http_driver cli_http_driver(const struct client_config *cfg)
{
    bool plain = cfg->protocol == PROTO_HTTP1 && cfg->users_per_connection <= 1;
    if (cfg->http_driver == HTTP_DRIVER_AUTO)
        return plain ? HTTP_DRIVER_RAW : HTTP_DRIVER_CURL;
    return cfg->http_driver;
}

uint32_t cli_threads(const struct client_config *cfg)
{
    /* users that share connections (libcurl's pools) must share one multi handle: one
     * loop */
    if (cfg->users_per_connection > 1)
        return 1;
    uint32_t n = cfg->threads;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (uint32_t)cores : 1;
    }
    return n < cfg->clients ? n : (cfg->clients > 0 ? cfg->clients : 1);
}

const char *cli_send_mode_name(enum send_mode m)
{
    return m == SEND_PERIODIC ? "periodic" : "poisson";
}

int64_t cli_drain_ns(const struct client_config *cfg)
{
    if (cfg->drain_ns >= 0)
        return cfg->drain_ns;
    if (cfg->approach == APPROACH_SHORT)
        return cfg->interval_ns + NS_PER_S;
    return NS_PER_S;
}
