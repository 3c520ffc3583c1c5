/* fuzz_trace.c: libFuzzer harness for the trace parser (common/trace.c) the scenario
 * check and the server share.
 *
 * The input is the trace's text. Either the parse fails with a problem that names a line
 * of the input (or none, for a trace without a time) and leaves nothing allocated, or it
 * succeeds with at least one offset, every offset between 0 and TRACE_MAX_S seconds and
 * none smaller than the one before. Any broken promise calls abort(). Seeds:
 * tests/fuzz/trace/.
 */
#include "trace.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int64_t *v = NULL;
    size_t n = 0, lines = 1;
    struct trace_problem p;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (trace_parse((const char *)data, size, &v, &n, &p) != 0) {
        if (v || n || p.line > lines || !p.why || strlen(p.text) >= sizeof(p.text))
            abort();
        return 0;
    }
    if (n < 1 || !v)
        abort();
    for (size_t i = 0; i < n; i++)
        if (v[i] < 0 || v[i] > (int64_t)(TRACE_MAX_S * 1e9) || (i && v[i] < v[i - 1]))
            abort();
    free(v);
    return 0;
}
