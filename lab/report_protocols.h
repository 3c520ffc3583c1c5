/* report_protocols.h: the report's section on HTTP/2 and TLS (report_protocols.c). */
#ifndef PUSHPULL_LAB_REPORT_PROTOCOLS_H
#define PUSHPULL_LAB_REPORT_PROTOCOLS_H

#include <stddef.h>

#include "dynbuf.h"
#include "report.h"

/* "## Protocols ...", when some run went through the front; nothing otherwise. 0, or
 * non-zero when out of memory. */
int report_protocols(struct dynbuf *b, const struct lab_row *rows, size_t n);

#endif
