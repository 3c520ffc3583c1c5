/* link_report.c: the link emulator's summary block and --stats JSON (see link_report.h).
 *
 * The JSON is written by hand into a dynbuf: every value is a count or a plain decimal,
 * and 64-bit counts must not pass through a double.
 */
#include "link/link_report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "dynbuf.h"

/* One summary line: label padded to a fixed column, count right-aligned. */
static void line(FILE *f, const char *label, uint64_t v)
{
    fprintf(f, "  %-28s %14" PRIu64 "\n", label, v);
}

void link_report_print(FILE *f, const struct link_counters *c,
                       const struct link_report_run *run)
{
    fprintf(f, "pushpull-link summary\n");
    fprintf(f, "  %-28s %14.3f\n", "elapsed (s)", run->elapsed_s);
    fprintf(f, "  %-28s %14.3f\n", "CPU (s)", run->cpu_s);
    line(f, "connections accepted", c->accepted);
    line(f, "connections refused", c->refused);
    line(f, "upstream connects failed", c->upstream_failed);
    line(f, "resets injected", c->resets_injected);
    line(f, "idle cuts", c->idle_cuts);
    line(f, "peer resets passed on", c->peer_resets);
    line(f, "connections closed", c->closed);
    line(f, "connections open at peak", c->open_peak);
    line(f, "bytes in up (from clients)", c->bytes_in_up);
    line(f, "bytes up (to server)", c->bytes_up);
    line(f, "bytes discarded up", c->bytes_discarded_up);
    line(f, "bytes in down (from server)", c->bytes_in_down);
    line(f, "bytes down (to clients)", c->bytes_down);
    line(f, "bytes discarded down", c->bytes_discarded_down);
    line(f, "bytes discarded", c->bytes_discarded);
    fflush(f);
}

/* The settings that shaped the run, so a result file says what produced it. */
static void config_json(struct dynbuf *b, const struct link_config *cfg)
{
    dynbuf_addf(
        b,
        "\"config\":{\"delay_up_ms\":%.3f,\"delay_down_ms\":%.3f,"
        "\"jitter_up_ms\":%.3f,\"jitter_down_ms\":%.3f,"
        "\"rate_up_bps\":%" PRIu64 ",\"rate_down_bps\":%" PRIu64 ","
        "\"buffer_bytes\":%zu,\"handshake\":%s,\"drop_every_s\":%.3f,"
        "\"drop_rate_per_s\":%g,\"idle_timeout_s\":%.3f,\"queue_bytes\":%zu,"
        "\"max_connections\":%u,\"seed\":%" PRIu64 "}",
        (double)cfg->up.delay_ns / NS_PER_MS, (double)cfg->down.delay_ns / NS_PER_MS,
        (double)cfg->up.jitter_ns / NS_PER_MS, (double)cfg->down.jitter_ns / NS_PER_MS,
        cfg->up.rate_bps, cfg->down.rate_bps, cfg->down.hold_bytes,
        cfg->handshake ? "true" : "false", (double)cfg->drop_every_ns / NS_PER_S,
        cfg->drop_rate, (double)cfg->idle_timeout_ns / NS_PER_S, cfg->queue_bytes,
        cfg->max_connections, cfg->seed);
}

int link_report_write_json(const char *path, const struct link_config *cfg,
                           const struct link_counters *c, const struct link_report_run *run,
                           char *err, size_t errlen)
{
    int rc = -1;
    FILE *f = NULL;
    struct dynbuf tmp, b;
    dynbuf_init(&tmp, 8192);
    dynbuf_init(&b, 1 << 16);
    if (dynbuf_addf(&tmp, "%s.tmp", path) != 0) {
        snprintf(err, errlen, "--stats %s: path too long", path);
        goto out;
    }
    dynbuf_addf(&b,
                "{\"elapsed_s\":%.3f,\"cpu_s\":%.3f,\"accepted\":%" PRIu64
                ",\"refused\":%" PRIu64 ",\"upstream_failed\":%" PRIu64
                ",\"resets_injected\":%" PRIu64 ",\"idle_cuts\":%" PRIu64
                ",\"peer_resets\":%" PRIu64 ",\"closed\":%" PRIu64 ",\"open_peak\":%" PRIu64
                ",\"bytes_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
                ",\"bytes_discarded\":%" PRIu64 ",\"bytes_in_up\":%" PRIu64
                ",\"bytes_in_down\":%" PRIu64 ",\"bytes_discarded_up\":%" PRIu64
                ",\"bytes_discarded_down\":%" PRIu64 ",",
                run->elapsed_s, run->cpu_s, c->accepted, c->refused, c->upstream_failed,
                c->resets_injected, c->idle_cuts, c->peer_resets, c->closed, c->open_peak,
                c->bytes_up, c->bytes_down, c->bytes_discarded, c->bytes_in_up,
                c->bytes_in_down, c->bytes_discarded_up, c->bytes_discarded_down);
    config_json(&b, cfg);
    if (dynbuf_adds(&b, "}\n") != 0) {
        snprintf(err, errlen, "--stats: out of memory");
        goto out;
    }
    f = fopen(tmp.mem, "w");
    if (!f) {
        snprintf(err, errlen, "fopen %s: %s", tmp.mem, strerror(errno));
        goto out;
    }
    if (fwrite(b.mem, 1, b.len, f) != b.len) {
        snprintf(err, errlen, "fwrite %s: %s", tmp.mem, strerror(errno));
        goto out;
    }
    int closed = fclose(f);
    f = NULL;
    if (closed != 0) {
        snprintf(err, errlen, "fclose %s: %s", tmp.mem, strerror(errno));
        goto out;
    }
    if (rename(tmp.mem, path) != 0) {
        snprintf(err, errlen, "rename %s to %s: %s", tmp.mem, path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (f)
        fclose(f);
    dynbuf_free(&b);
    dynbuf_free(&tmp);
    return rc;
}
