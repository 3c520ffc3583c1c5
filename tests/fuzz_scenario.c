/* fuzz_scenario.c: libFuzzer harness for the scenario loader.
 *
 * The first input byte chooses the mode (bit 0: --quick); the rest is the file's text,
 * parsed from the buffer with SCENARIO_NO_FILES so no path in it is ever opened. Either
 * the load fails with one line that starts with the display name, or it succeeds and
 * every run has a unique, filesystem-safe id and argument lists of non-empty words (the
 * link's empty exactly when the run has no link, the restart's words exactly when it has
 * a restart), and its description is valid UTF-8. Any broken promise calls abort(). Seeds:
 * tests/fuzz/scenario/, dictionary: tests/fuzz/scenario.dict.
 */
#include "lab/runargs.h"
#include "lab/scenario.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"

/* Words separated by single spaces, nothing blank inside. */
static void check_words(const char *s)
{
    if (s[0] == '\0' || s[0] == ' ' || s[strlen(s) - 1] == ' ' || strstr(s, "  ") ||
        strpbrk(s, "\t\n\r\v\f"))
        abort();
}

/* A program's flags: built without failing, every word non-empty; n words at least. */
static void check_args(int (*f)(const struct scenario_run *, struct runargs *),
                       const struct scenario_run *r, size_t at_least)
{
    struct runargs a;
    runargs_init(&a);
    if (f(r, &a) != 0 || a.n < at_least || a.v[a.n] != NULL)
        abort();
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i][0] == '\0')
            abort();
    if (f == runargs_link && (a.n > 0) != r->network.link)
        abort();
    runargs_free(&a);
}

/* Valid UTF-8, or abort: no overlong forms, no surrogates, nothing above U+10FFFF. */
static void check_utf8(const unsigned char *s)
{
    while (*s) {
        size_t len = *s < 0x80                  ? 1
                     : *s >= 0xc2 && *s <= 0xdf ? 2
                     : *s >= 0xe0 && *s <= 0xef ? 3
                     : *s >= 0xf0 && *s <= 0xf4 ? 4
                                                : 0;
        if (len == 0)
            abort();
        unsigned cp = len == 1 ? *s : *s & (0x7f >> len);
        for (size_t i = 1; i < len; i++) {
            if ((s[i] & 0xc0) != 0x80)
                abort();
            cp = cp << 6 | (s[i] & 0x3f);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
            abort();
        s += len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = SCENARIO_NO_FILES | ((data[0] & 1) ? SCENARIO_QUICK : 0);
    char err[512];
    struct scenario *s = NULL;
    if (scenario_parse((const char *)data + 1, size - 1, "fuzz.json", "base", flags, &s,
                       err, sizeof(err)) != 0) {
        if (s || strncmp(err, "fuzz.json: ", 11) != 0 || strchr(err, '\n'))
            abort();
        return 0;
    }
    check_utf8((const unsigned char *)scenario_description(s));
    size_t n = scenario_run_count(s);
    if (n < 1 || n > SCENARIO_MAX_RUNS)
        abort();
    struct dynbuf b;
    dynbuf_init(&b, 1 << 16);
    for (size_t i = 0; i < n; i++) {
        const struct scenario_run *r = scenario_run_at(s, i);
        if (r->id[0] == '\0' ||
            strspn(r->id, "abcdefghijklmnopqrstuvwxyz0123456789.=+-_") != strlen(r->id))
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(r->id, scenario_run_at(s, j)->id) == 0)
                abort();
        check_args(runargs_server, r, 6);
        check_args(runargs_client, r, 12);
        check_args(runargs_link, r, 0);
        dynbuf_reset(&b);
        if (runargs_restart_words(r, &b) != 0)
            abort();
        if (r->restart.on)
            check_words(b.mem);
        else if (b.len != 0)
            abort();
        if (!(runargs_estimate_s(r) > 0))
            abort();
    }
    dynbuf_free(&b);
    scenario_free(s);
    return 0;
}
