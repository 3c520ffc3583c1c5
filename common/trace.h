/* trace.h: a trace of publish times, the one parser the scenario check (pushpull-lab)
 * and the server's generator (--process trace) share, so a file one accepts the other
 * accepts too.
 *
 * The format: an optional header line "t_s", first; then one publish offset per line, in
 * seconds from the start: a non-negative decimal number without a unit ("0", "1.5",
 * "2e-3"), at most TRACE_MAX_S, never smaller than the one before. Blank lines are
 * skipped and a line may end in CRLF; a NUL byte anywhere, or a line longer than
 * TRACE_LINE_MAX bytes, is an error. A trace holds at least one time. The parser works
 * on the whole text (a file is read first, at most TRACE_MAX_BYTES), never on a socket.
 */
#ifndef PUSHPULL_TRACE_H
#define PUSHPULL_TRACE_H

#include <stddef.h>
#include <stdint.h>

#define TRACE_MAX_BYTES ((size_t)16 << 20) /* a trace file's size */
#define TRACE_MAX_S     1e9                /* the largest offset: about 31.7 years */
#define TRACE_LINE_MAX  64                 /* bytes of one line, CRLF excluded */

/* The first thing wrong with a trace. */
struct trace_problem {
    size_t line;     /* 1-based number of the offending line; 0: no time in the trace */
    char text[48];   /* that line's first bytes (up to a NUL), "" when line is 0 */
    const char *why; /* what it should have been ("a number of seconds"); NULL: memory */
};

/* Parse len bytes of trace text. 0 with *offsets_ns (nanoseconds, malloc'd: the caller
 * frees) and *n set; -1 with *problem filled (and *offsets_ns NULL); problem->why is NULL
 * when it ran out of memory. */
int trace_parse(const char *text, size_t len, int64_t **offsets_ns, size_t *n,
                struct trace_problem *problem);
/* Read the regular file at path (at most TRACE_MAX_BYTES) and parse it. 0 as
 * trace_parse; -1 with err holding either the failed call and strerror(errno), or
 * "PATH:LINE: expected WHY, got \"TEXT\"" (or "PATH: expected at least one publish
 * time"). problem, when not NULL, gets the parse problem (line 0 and why NULL for a file
 * that could not be read). */
int trace_load(const char *path, int64_t **offsets_ns, size_t *n,
               struct trace_problem *problem, char *err, size_t errlen);

#endif
