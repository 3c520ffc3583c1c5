/* merge_traffic.c: the partitions' traffic.csv files as the one process with all the
 * users would have written them (see merge_traffic.h).
 *
 * A row is one user's burst, timed in milliseconds from its own process's window start,
 * and users belong to one partition each, so the merge is a concatenation: every row
 * kept, none added. What changes is the time base. The processes of one run open their
 * windows moments apart; each partition's times move by the gap between its window start
 * and the merged result's (the earliest), so every row is on the one clock the merged
 * summary.json's meta carries. A file is read line by line with its header and each row
 * checked, and its row count must equal the one its summary.json reports: a truncated file
 * is refused rather than merged short. When any partition wrote none (--traffic-log off),
 * the merge writes none either: a timeline of part of the population would read as the
 * whole.
 */
#include "merge_traffic.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "traffic_log.h"

#define TRAFFIC_HEADER_LINE "user,t_ms,bytes_up,bytes_down"

/* Copy one partition's rows into out with shift_ms added. 0, or -1 with err. */
static int copy_rows(FILE *out, const struct merge_traffic_part *p, uint64_t *rows,
                     char *err, size_t errlen)
{
    char path[4200], line[256];
    snprintf(path, sizeof(path), "%s/%s", p->dir, TRAFFIC_FILE);
    FILE *in = fopen(path, "r");
    if (!in) {
        snprintf(err, errlen, "%s: %s (its summary.json reports %" PRIu64 " rows)", path,
                 strerror(errno), p->rows);
        return -1;
    }
    int rc = 0;
    uint64_t n = 0, lineno = 1;
    if (!fgets(line, sizeof(line), in) ||
        strcspn(line, "\r\n") != strlen(TRAFFIC_HEADER_LINE) ||
        strncmp(line, TRAFFIC_HEADER_LINE, strlen(TRAFFIC_HEADER_LINE)) != 0) {
        snprintf(err, errlen, "%s: line 1: expected the header %s", path,
                 TRAFFIC_HEADER_LINE);
        rc = -1;
    }
    while (rc == 0 && fgets(line, sizeof(line), in)) {
        lineno++;
        unsigned user;
        double t_ms;
        uint64_t up, down;
        int used = 0;
        if (sscanf(line, "%u,%lf,%" SCNu64 ",%" SCNu64 "%n", &user, &t_ms, &up, &down,
                   &used) != 4 ||
            (line[used] != '\n' && line[used] != '\0')) {
            snprintf(err, errlen,
                     "%s: line %" PRIu64 ": expected user,t_ms,bytes_up,bytes_down", path,
                     lineno);
            rc = -1;
            break;
        }
        if (fprintf(out, "%u,%.3f,%" PRIu64 ",%" PRIu64 "\n", user, t_ms + p->shift_ms, up,
                    down) < 0) {
            snprintf(err, errlen, "write %s: %s", TRAFFIC_FILE, strerror(errno));
            rc = -1;
        }
        n++;
    }
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "read %s: %s", path, strerror(errno));
        rc = -1;
    }
    if (rc == 0 && n != p->rows) {
        snprintf(err, errlen, "%s: %" PRIu64 " rows, but its summary.json reports %" PRIu64,
                 path, n, p->rows);
        rc = -1;
    }
    fclose(in);
    *rows += n;
    return rc;
}

int merge_traffic(const char *out_dir, const struct merge_traffic_part *parts, int n,
                  struct merge_traffic_total *total, char *err, size_t errlen)
{
    *total = (struct merge_traffic_total){0};
    for (int i = 0; i < n; i++)
        if (!parts[i].written)
            return 0; /* one partition without a timeline: none for the whole */
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", out_dir, TRAFFIC_FILE);
    FILE *out = fopen(path, "w");
    if (!out) {
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = fprintf(out, "%s\n", TRAFFIC_HEADER_LINE) < 0 ? -1 : 0;
    if (rc != 0)
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
    for (int i = 0; i < n && rc == 0; i++) {
        rc = copy_rows(out, &parts[i], &total->rows, err, errlen);
        total->dropped += parts[i].dropped;
    }
    if (fclose(out) != 0 && rc == 0) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        rc = -1;
    }
    total->written = rc == 0;
    return rc;
}
