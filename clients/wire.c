/* wire.c: the window's share of the kernel's byte counts, socket by socket (wire.h).
 *
 * A socket opened inside the window starts from zero, less the SYN its `written` counts
 * once acknowledged (sockacct.h: the opener's SYN is one byte of sequence space that no
 * application wrote); one opened before the window starts from its count at the start,
 * which already holds the SYN. A socket whose count cannot be read at the window's start
 * is counted from zero, and one that cannot be read at its end adds nothing; both are
 * rare enough (a socket torn down between the kernel's two answers) to leave, and the
 * whole-run check (report.c) would show them.
 */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

struct wire_sock {
    struct counters *ctr;  /* whose bytes (borrowed); NULL: no socket at this fd */
    bool in_window;        /* opened inside the window, or open at its start */
    bool requested;        /* a request went out on it (wire_first_request) */
    uint64_t sent0, recv0; /* the count at the window's start (0: opened inside it) */
};

void wire_init(struct wire *w)
{
    memset(w, 0, sizeof(*w));
}

void wire_free(struct wire *w)
{
    free(w->by_fd);
    memset(w, 0, sizeof(*w));
}

int wire_opened(struct wire *w, int fd, struct counters *ctr)
{
    if (fd < 0)
        return -1;
    if (fd >= w->cap) {
        int cap = w->cap ? w->cap : 1024;
        while (cap <= fd)
            cap *= 2;
        struct wire_sock *t = realloc(w->by_fd, (size_t)cap * sizeof(*t));
        if (!t)
            return -1;
        memset(t + w->cap, 0, (size_t)(cap - w->cap) * sizeof(*t));
        w->by_fd = t;
        w->cap = cap;
    }
    w->by_fd[fd] = (struct wire_sock){.ctr = ctr, .in_window = w->measuring};
    return 0;
}

/* Add socket s's window bytes, its account now being a. */
static void add_window(struct wire_sock *s, const struct sockacct *a)
{
    uint64_t syn = s->sent0 == 0 && a->written > 0; /* opened inside the window */
    uint64_t sent = a->written - syn, recv = a->read;
    counters_add_window(s->ctr, CTR_KERNEL_BYTES_SENT,
                        sent > s->sent0 ? sent - s->sent0 : 0);
    counters_add_window(s->ctr, CTR_KERNEL_BYTES_RECEIVED,
                        recv > s->recv0 ? recv - s->recv0 : 0);
}

void wire_closing(struct wire *w, int fd, const struct sockacct *a)
{
    if (fd < 0 || fd >= w->cap || !w->by_fd[fd].ctr)
        return;
    struct wire_sock *s = &w->by_fd[fd];
    if (w->measuring && s->in_window && a)
        add_window(s, a);
    s->ctr = NULL;
}

int wire_first_request(struct wire *w, int fd, uint64_t *setup_bytes)
{
    if (fd < 0 || fd >= w->cap || !w->by_fd[fd].ctr || w->by_fd[fd].requested)
        return 0;
    struct sockacct a;
    w->by_fd[fd].requested = true;
    if (sockacct_read(fd, &a) != 0)
        return 0;
    *setup_bytes = a.written - (a.written > 0) + a.read; /* the SYN is no setup byte */
    return 1;
}

void wire_window_start(struct wire *w)
{
    for (int fd = 0; fd < w->cap; fd++) {
        struct wire_sock *s = &w->by_fd[fd];
        if (!s->ctr)
            continue;
        struct sockacct a;
        s->in_window = true;
        if (sockacct_read(fd, &a) == 0) {
            /* its SYN included, having crossed before the window; 0 when it is not
             * connected yet, and its SYN then crosses inside (add_window) */
            s->sent0 = a.written;
            s->recv0 = a.read;
        }
    }
    w->measuring = true;
}

void wire_window_end(struct wire *w)
{
    for (int fd = 0; fd < w->cap; fd++) {
        struct wire_sock *s = &w->by_fd[fd];
        struct sockacct a;
        if (s->ctr && s->in_window && sockacct_read(fd, &a) == 0)
            add_window(s, &a);
        s->in_window = false;
    }
    w->measuring = false;
}

int wire_hpack_down(const uint64_t *run, bool tls, uint64_t *block, uint64_t *fields)
{
    uint64_t down = tls ? run[CTR_TLS_APP_BYTES_RECEIVED] : run[CTR_KERNEL_BYTES_RECEIVED];
    uint64_t heads = run[CTR_H2_RESP_HEADS];
    uint64_t other = run[CTR_RESP_BODY_BYTES] + run[CTR_CHUNK_FRAMING_BYTES] +
                     WIRE_H2_FRAME_HEADER * (heads + run[CTR_H2_DATA_FRAMES]) +
                     WIRE_H2_PREFACE_DOWN * run[CTR_CONNECTIONS];
    if (heads == 0 || run[CTR_H2_RESP_UNSIZED] > 0 || down < other)
        return -1;
    *block = down - other;
    *fields = run[CTR_H2_RESP_FIELD_BYTES];
    return 0;
}
