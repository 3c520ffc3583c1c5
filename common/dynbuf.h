/* dynbuf.h: a growable byte buffer with a hard size cap.
 *
 * After curl's dynbuf: the buffer is always NUL-terminated (so it can be printed), grows
 * by doubling, and refuses to grow past the cap given at init. A failed append frees the
 * contents and leaves the buffer empty, so a caller that forgets to check cannot go on
 * with half a message. Ownership: the dynbuf owns its memory; dynbuf_free releases it,
 * dynbuf_take hands it to the caller (who then frees it with free()).
 */
#ifndef PUSHPULL_DYNBUF_H
#define PUSHPULL_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>

struct dynbuf {
    char *mem;  /* NUL-terminated contents, NULL until the first append */
    size_t len; /* bytes in use, not counting the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* the most len may ever reach */
};

/* Start empty; no memory is allocated until the first append. */
void dynbuf_init(struct dynbuf *b, size_t max);
/* Release the memory; the buffer is empty and reusable afterwards. */
void dynbuf_free(struct dynbuf *b);
/* Forget the contents but keep the memory. */
void dynbuf_reset(struct dynbuf *b);
/* Append bytes. 0 on success; -1 (contents freed) when the cap or malloc refuses. */
int dynbuf_add(struct dynbuf *b, const void *data, size_t len);
/* Append a NUL-terminated string. Same result as dynbuf_add. */
int dynbuf_adds(struct dynbuf *b, const char *s);
/* Append printf-formatted text. Same result as dynbuf_add. */
int dynbuf_addf(struct dynbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (a consumer that has written them out). */
void dynbuf_consume(struct dynbuf *b, size_t n);
/* Hand the memory to the caller (free() it); the buffer becomes empty. May be NULL. */
char *dynbuf_take(struct dynbuf *b);
/* Append the whole file at path. 0, or -1 (contents freed) with err naming the path and
 * why: it cannot be opened or read, or it is larger than the cap. An empty file appends
 * nothing (mem may stay NULL). */
int dynbuf_read_file(struct dynbuf *b, const char *path, char *err, size_t errlen);

#endif
