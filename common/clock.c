/* clock.c: the one variable behind clock.h's test aid, the real-time clock's offset.
 *
 * Everything else about the clocks is inline in clock.h; this file exists so the offset
 * has a single definition that every program links.
 */
#include "clock.h"

int64_t clock_real_offset_ns = 0;
