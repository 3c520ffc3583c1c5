/* jsonw.h: writing JSON text into a dynbuf where cJSON would lose precision or time.
 *
 * cJSON keeps numbers as doubles, and a nanosecond timestamp (about 1.8e18) does not fit
 * in a double's 53 bits; the feed also renders each update once and reuses the text for
 * thousands of subscribers. So the server writes its few JSON shapes by hand with these
 * helpers, and reads request JSON with cJSON.
 */
#ifndef PUSHPULL_JSONW_H
#define PUSHPULL_JSONW_H

#include <stddef.h>

#include "dynbuf.h"

/* Append s (len bytes, UTF-8) as a JSON string literal with quotes: '"' and '\\' and
 * control characters are escaped (RFC 8259 section 7). Returns dynbuf_add's result. */
int jsonw_string(struct dynbuf *b, const char *s, size_t len);
/* 1 when the len bytes are well-formed UTF-8 (RFC 3629: no overlongs, no surrogates,
 * nothing above U+10FFFF) with no NUL byte; else 0. */
int jsonw_valid_utf8(const char *s, size_t len);

#endif
