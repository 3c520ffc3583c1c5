/* dynbuf.c: a growable byte buffer with a hard size cap (see dynbuf.h for the contract). */
#include "dynbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dynbuf_init(struct dynbuf *b, size_t max)
{
    b->mem = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void dynbuf_free(struct dynbuf *b)
{
    free(b->mem);
    b->mem = NULL;
    b->len = 0;
    b->cap = 0;
}

void dynbuf_reset(struct dynbuf *b)
{
    b->len = 0;
    if (b->mem)
        b->mem[0] = '\0';
}

/* Make room for `extra` more bytes plus the NUL. */
static int dynbuf_grow(struct dynbuf *b, size_t extra)
{
    if (extra > b->max - b->len)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *mem = realloc(b->mem, cap);
    if (!mem)
        return -1;
    b->mem = mem;
    b->cap = cap;
    return 0;
}

int dynbuf_add(struct dynbuf *b, const void *data, size_t len)
{
    if (dynbuf_grow(b, len) != 0) {
        dynbuf_free(b);
        return -1;
    }
    if (len)
        memcpy(b->mem + b->len, data, len);
    b->len += len;
    b->mem[b->len] = '\0';
    return 0;
}

int dynbuf_adds(struct dynbuf *b, const char *s)
{
    return dynbuf_add(b, s, strlen(s));
}

int dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || dynbuf_grow(b, (size_t)n) != 0) {
        dynbuf_free(b);
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->mem + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void dynbuf_consume(struct dynbuf *b, size_t n)
{
    if (n >= b->len) {
        dynbuf_reset(b);
        return;
    }
    memmove(b->mem, b->mem + n, b->len - n);
    b->len -= n;
    b->mem[b->len] = '\0';
}

char *dynbuf_take(struct dynbuf *b)
{
    char *mem = b->mem;
    b->mem = NULL;
    b->len = 0;
    b->cap = 0;
    return mem;
}

int dynbuf_read_file(struct dynbuf *b, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
        return -1;
    }
    char chunk[65536];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = dynbuf_add(b, chunk, n);
    if (rc != 0)
        snprintf(err, errlen, "%.900s: larger than %zu bytes", path, b->max);
    else if (ferror(f)) {
        snprintf(err, errlen, "%.900s: %s", path, strerror(errno));
        dynbuf_free(b);
        rc = -1;
    }
    fclose(f);
    return rc;
}
