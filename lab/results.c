/* results.c: the files of a results directory: JSON read whole, files written whole and
 * atomically, directories made and cleared (see lab.h).
 *
 * Every file the lab writes is written to NAME.tmp and renamed over NAME once complete,
 * so a reader (or a run killed half way) never sees a file cut short: it sees the old
 * one, the new one, or none. Directories are cleared with nftw, depth first, without
 * following symbolic links.
 */
#include "lab.h"

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dynbuf.h"

#define LAB_JSON_MAX ((size_t)64 << 20)

cJSON *lab_read_json(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct dynbuf b;
    dynbuf_init(&b, LAB_JSON_MAX);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (dynbuf_add(&b, chunk, n) != 0) {
            snprintf(err, errlen, "%s: larger than 64 MiB", path);
            fclose(f);
            dynbuf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    cJSON *doc = b.mem ? cJSON_ParseWithLength(b.mem, b.len) : NULL;
    if (!doc && !b.mem) {
        snprintf(err, errlen, "%s: empty, not a JSON document", path);
    } else if (!doc) {
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1, col = 1;
        for (const char *p = b.mem; p && at && p < at && p < b.mem + b.len; p++) {
            col = *p == '\n' ? 1 : col + 1;
            line += *p == '\n';
        }
        snprintf(err, errlen, "%s: not valid JSON (line %zu, column %zu)", path, line, col);
    }
    dynbuf_free(&b);
    return doc;
}

double lab_num(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

const char *lab_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

int lab_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        return -1;
    }
    size_t n = fwrite(text, 1, len, f);
    int closed = fclose(f); /* once, whatever happened: a full disk shows here */
    if (n != len || closed != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
        unlink(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int lab_write_json(const char *path, const cJSON *doc, char *err, size_t errlen)
{
    char *text = cJSON_Print(doc);
    if (!text) {
        snprintf(err, errlen, "%s: out of memory printing JSON", path);
        return -1;
    }
    size_t len = strlen(text);
    int rc = -1;
    char *line = realloc(text, len + 2); /* end with a newline, as text files do */
    if (line) {
        line[len] = '\n';
        rc = lab_write_file(path, line, len + 1, err, errlen);
        free(line);
    } else {
        snprintf(err, errlen, "%s: out of memory", path);
        free(text);
    }
    return rc;
}

int lab_mkdirs(const char *path, char *err, size_t errlen)
{
    char p[4096];
    if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p)) {
        snprintf(err, errlen, "%s: path too long", path);
        return -1;
    }
    for (char *s = p + 1;; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "mkdir %s: %s", p, strerror(errno));
            return -1;
        }
        if (end)
            break;
        *s = '/';
    }
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s: not a directory", path);
        return -1;
    }
    return 0;
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int lab_remove_tree(const char *path, char *err, size_t errlen)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return errno == ENOENT ? 0 : -1;
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(err, errlen, "removing %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int lab_copy_file(const char *from, const char *to, char *err, size_t errlen)
{
    FILE *f = fopen(from, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open: %s", from, strerror(errno));
        return -1;
    }
    struct dynbuf b;
    dynbuf_init(&b, LAB_JSON_MAX);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = dynbuf_add(&b, chunk, n);
    fclose(f);
    if (rc != 0)
        snprintf(err, errlen, "%s: larger than 64 MiB", from);
    else
        rc = lab_write_file(to, b.mem ? b.mem : "", b.len, err, errlen);
    dynbuf_free(&b);
    return rc;
}
