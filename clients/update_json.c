/* update_json.c: the incremental reader of the server's two JSON reply shapes
 * (update_json.h lists what it accepts).
 *
 * One byte at a time through a small state machine: a tokenizer (where in the JSON
 * grammar we are: expecting a value, inside a member name, a string, a number or a
 * literal, between members or elements) over a stack of the open containers, each tagged
 * with its role in the contract (the top object, the "events" array, an update inside
 * it, or something to skip). A member name is kept only while it is short enough to be
 * one of ours; a value is captured only when it belongs to one of the contract's fields,
 * and checked for syntax and forgotten otherwise. The only memory that grows is the list
 * of updates found, and it grows with the bytes fed, which the cap bounds.
 */
#include "update_json.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX      15   /* longest member name kept ("events", "ts_ns": ours are short) */
#define KEEP_UPDATES 4096 /* a larger list is freed, not kept, when a new reply begins */
#define F_BIT(f)     (1u << (f))
#define IS_WS(c)     ((c) == ' ' || (c) == '\t' || (c) == '\n' || (c) == '\r')
#define IS_DIGIT(c)  ((c) >= '0' && (c) <= '9')
#define IS_HEX(c)    (IS_DIGIT(c) || ((c) >= 'a' && (c) <= 'f') || ((c) >= 'A' && (c) <= 'F'))

enum tstate {
    S_VALUE,     /* a value starts here */
    S_OBJ_FIRST, /* after '{': a member name or '}' */
    S_OBJ_KEY,   /* after ',' in an object: a member name */
    S_COLON,     /* after a member name */
    S_OBJ_NEXT,  /* after a member's value: ',' or '}' */
    S_ARR_FIRST, /* after '[': a value or ']' */
    S_ARR_NEXT,  /* after an element: ',' or ']' */
    S_STRING,    /* inside a string */
    S_ESCAPE,    /* after a backslash in a string */
    S_HEX,       /* inside \uXXXX */
    S_NUMBER,    /* inside a number (nstate says where) */
    S_LITERAL,   /* inside true, false or null */
    S_END        /* the top-level object has closed: whitespace only */
};

enum nstate { N_MINUS, N_ZERO, N_INT, N_DOT, N_FRAC, N_E, N_ESIGN, N_EXP };

enum role {
    R_SKIP,   /* a container of no interest */
    R_ROOT,   /* the top-level object */
    R_EVENTS, /* the "events" array */
    R_EVENT   /* an update inside it */
};

enum field { F_NONE, F_SEQ, F_TS, F_NEXT, F_RESET, F_EVENTS, F_DATA };

struct update_reader {
    size_t max;                                /* the byte cap */
    size_t fed;                                /* bytes fed to this reply */
    enum update_shape shape;                   /* what the reply must be */
    enum update_read_status status;            /* sticky once not OK */
    enum tstate st;                            /* where in the grammar */
    unsigned depth;                            /* open containers */
    bool in_object[UPDATE_JSON_MAX_DEPTH];     /* per open container: object, or array */
    unsigned char role[UPDATE_JSON_MAX_DEPTH]; /* per open container: its enum role */
    enum field field;                          /* the member whose value comes next */
    enum field vfield;                         /* the member of the scalar being read */
    bool in_key;                               /* the string is a member name */
    char key[KEY_MAX + 1];                     /* the member name so far */
    size_t key_len;                            /* its length (KEY_MAX + 1: too long) */
    bool key_escaped;                          /* it held an escape: taken as unknown */
    unsigned hex_left;                         /* \uXXXX digits still to come */
    enum nstate nst;                           /* where in a number */
    bool num_plain;                            /* only digits so far */
    bool num_overflow;                         /* the digits passed UINT64_MAX */
    uint64_t num;                              /* their value */
    const char *lit;                           /* "true", "false" or "null" */
    size_t lit_pos;                            /* bytes of it matched */
    struct update cur;                         /* the update object being read */
    bool capturing;     /* the string is cur's "data": keep its head */
    size_t head_len;    /* bytes of it kept */
    unsigned cur_seen;  /* F_BIT of its fields given so far */
    unsigned root_seen; /* the same, for an events reply's top */
    uint64_t next;      /* "next" */
    bool reset;         /* "reset" */
    struct update *ups; /* updates found (owned) */
    size_t n, cap;      /* used and allocated entries */
};

struct update_reader *update_reader_new(size_t max_bytes)
{
    struct update_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->max = max_bytes;
    update_reader_begin(r, UPDATE_SHAPE_ONE);
    return r;
}

void update_reader_free(struct update_reader *r)
{
    if (!r)
        return;
    free(r->ups);
    free(r);
}

void update_reader_begin(struct update_reader *r, enum update_shape shape)
{
    struct update *ups = r->ups;
    size_t cap = r->cap;
    size_t max = r->max;
    if (cap > KEEP_UPDATES) {
        free(ups);
        ups = NULL;
        cap = 0;
    }
    memset(r, 0, sizeof(*r));
    r->ups = ups;
    r->cap = cap;
    r->max = max;
    r->shape = shape;
    r->st = S_VALUE;
}

/* ---- the contract's fields ---------------------------------------------------------- */

static int fail(struct update_reader *r)
{
    r->status = UPDATE_READ_ERROR;
    return -1;
}

static int push_update(struct update_reader *r, struct update u)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 16;
        struct update *p = realloc(r->ups, cap * sizeof(*p));
        if (!p)
            return fail(r); /* out of memory is reported as a reply we cannot read */
        r->ups = p;
        r->cap = cap;
    }
    r->ups[r->n++] = u;
    return 0;
}

/* Is the innermost open container an update object (an event, or the single update)? */
static bool in_update_object(const struct update_reader *r)
{
    unsigned char role = r->role[r->depth - 1];
    return role == R_EVENT || (role == R_ROOT && r->shape == UPDATE_SHAPE_ONE);
}

/* A member name has ended: which of our fields its value is, if any. */
static int key_done(struct update_reader *r)
{
    enum field f = F_NONE;
    unsigned *seen = NULL;
    if (!r->key_escaped && r->key_len <= KEY_MAX) {
        r->key[r->key_len] = '\0';
        if (in_update_object(r)) {
            seen = &r->cur_seen;
            if (strcmp(r->key, "seq") == 0)
                f = F_SEQ;
            else if (strcmp(r->key, "ts_ns") == 0)
                f = F_TS;
            else if (strcmp(r->key, "data") == 0)
                f = F_DATA;
        } else if (r->role[r->depth - 1] == R_ROOT) {
            seen = &r->root_seen;
            if (strcmp(r->key, "next") == 0)
                f = F_NEXT;
            else if (strcmp(r->key, "reset") == 0)
                f = F_RESET;
            else if (strcmp(r->key, "events") == 0)
                f = F_EVENTS;
        }
    }
    if (f != F_NONE && f != F_DATA) {
        if (*seen & F_BIT(f))
            return fail(r); /* given twice */
        *seen |= F_BIT(f);
    }
    r->field = f;
    r->st = S_COLON;
    return 0;
}

/* A number ended; keep it if it is one of ours. */
static int number_done(struct update_reader *r)
{
    if (r->nst != N_ZERO && r->nst != N_INT && r->nst != N_FRAC && r->nst != N_EXP)
        return fail(r);
    if (r->vfield == F_NONE)
        return 0;
    if (!r->num_plain || r->num_overflow)
        return fail(r);
    if (r->vfield == F_SEQ)
        r->cur.seq = r->num;
    else if (r->vfield == F_TS && r->num <= (uint64_t)INT64_MAX)
        r->cur.ts_ns = (int64_t)r->num;
    else if (r->vfield == F_NEXT)
        r->next = r->num;
    else
        return fail(r);
    return 0;
}

/* An object closed: check it against its role. */
static int object_done(struct update_reader *r, unsigned char role)
{
    bool has_seq = r->cur_seen & F_BIT(F_SEQ), has_ts = r->cur_seen & F_BIT(F_TS);
    if (role == R_EVENT) {
        if (!has_seq || !has_ts || r->cur.seq == 0 || r->cur.ts_ns <= 0)
            return fail(r);
        return push_update(r, r->cur);
    }
    if (role != R_ROOT)
        return 0;
    if (r->shape == UPDATE_SHAPE_EVENTS) {
        unsigned need = F_BIT(F_NEXT) | F_BIT(F_EVENTS);
        return (r->root_seen & need) == need ? 0 : fail(r);
    }
    if (!has_seq)
        return fail(r);
    if (r->cur.seq == 0) { /* before the first update: {"seq":0} */
        memset(&r->cur, 0, sizeof(r->cur));
        return push_update(r, r->cur);
    }
    if (!has_ts || r->cur.ts_ns <= 0)
        return fail(r);
    return push_update(r, r->cur);
}

/* ---- the tokenizer ------------------------------------------------------------------ */

/* A value (or the top-level object) is complete. */
static void value_done(struct update_reader *r)
{
    if (r->depth == 0)
        r->st = S_END;
    else
        r->st = r->in_object[r->depth - 1] ? S_OBJ_NEXT : S_ARR_NEXT;
}

static int open_container(struct update_reader *r, bool object, enum role role)
{
    if (r->depth == UPDATE_JSON_MAX_DEPTH)
        return fail(r);
    r->in_object[r->depth] = object;
    r->role[r->depth] = (unsigned char)role;
    r->depth++;
    if (role == R_EVENT || (role == R_ROOT && r->shape == UPDATE_SHAPE_ONE)) {
        memset(&r->cur, 0, sizeof(r->cur));
        r->cur_seen = 0;
    }
    r->st = object ? S_OBJ_FIRST : S_ARR_FIRST;
    return 0;
}

static int close_container(struct update_reader *r)
{
    unsigned char role = r->role[--r->depth];
    if (r->in_object[r->depth] && object_done(r, role) != 0)
        return -1;
    value_done(r);
    return 0;
}

/* The first byte of a value. */
static int value_start(struct update_reader *r, char c)
{
    enum field f = r->field;
    r->field = F_NONE;
    bool data = f == F_DATA; /* any value; a string's head is kept */
    if (data)
        f = F_NONE;
    bool top = r->depth == 0;
    bool in_events = !top && r->role[r->depth - 1] == R_EVENTS;
    if (c == '{') {
        if (top)
            return open_container(r, true, R_ROOT);
        if (f != F_NONE)
            return fail(r);
        return open_container(r, true, in_events ? R_EVENT : R_SKIP);
    }
    if (top || in_events)
        return fail(r); /* the top is an object, and so is every event */
    if (c == '[') {
        if (f != F_NONE && f != F_EVENTS)
            return fail(r);
        return open_container(r, false, f == F_EVENTS ? R_EVENTS : R_SKIP);
    }
    if (f == F_EVENTS)
        return fail(r);
    if (c == '"') {
        if (f != F_NONE)
            return fail(r);
        r->in_key = false;
        r->capturing = data;
        r->head_len = 0;
        r->st = S_STRING;
        return 0;
    }
    if (c == '-' || IS_DIGIT(c)) {
        if (f == F_RESET)
            return fail(r);
        r->vfield = f;
        r->num = 0;
        r->num_plain = c != '-';
        r->num_overflow = false;
        r->nst = c == '-' ? N_MINUS : (c == '0' ? N_ZERO : N_INT);
        if (c != '-')
            r->num = (uint64_t)(c - '0');
        r->st = S_NUMBER;
        return 0;
    }
    if (c == 't' || c == 'f' || c == 'n') {
        if (f != F_NONE && (f != F_RESET || c == 'n'))
            return fail(r);
        if (f == F_RESET)
            r->reset = c == 't';
        r->lit = c == 't' ? "true" : (c == 'f' ? "false" : "null");
        r->lit_pos = 1;
        r->st = S_LITERAL;
        return 0;
    }
    return fail(r);
}

/* One byte of a number. Returns 1 when c is not part of it (the number has ended and c
 * must be read again in the next state), 0 when consumed, -1 on error. */
static int number_byte(struct update_reader *r, char c)
{
    bool digit = IS_DIGIT(c);
    switch (r->nst) {
    case N_MINUS:
        if (!digit)
            return fail(r);
        r->nst = c == '0' ? N_ZERO : N_INT;
        return 0;
    case N_ZERO:
    case N_INT:
        if (digit) {
            if (r->nst == N_ZERO)
                return fail(r); /* no leading zeros */
            uint64_t d = (uint64_t)(c - '0');
            if (r->num > (UINT64_MAX - d) / 10)
                r->num_overflow = true;
            r->num = r->num * 10 + d;
            return 0;
        }
        break;
    case N_DOT:
    case N_ESIGN:
        if (!digit)
            return fail(r);
        r->nst = r->nst == N_DOT ? N_FRAC : N_EXP;
        return 0;
    case N_FRAC:
    case N_EXP:
        if (digit)
            return 0;
        break;
    case N_E:
        if (c == '+' || c == '-')
            r->nst = N_ESIGN;
        else if (digit)
            r->nst = N_EXP;
        else
            return fail(r);
        return 0;
    }
    if (c == '.' && (r->nst == N_ZERO || r->nst == N_INT)) {
        r->nst = N_DOT;
        r->num_plain = false;
        return 0;
    }
    if ((c == 'e' || c == 'E') && r->nst != N_EXP) {
        r->nst = N_E;
        r->num_plain = false;
        return 0;
    }
    if (number_done(r) != 0)
        return -1;
    value_done(r);
    return 1;
}

/* One byte inside a string. */
/* Keep n more bytes of the head of "data", as far as there is room. */
static void capture(struct update_reader *r, const char *s, size_t n)
{
    size_t room = UPDATE_HEAD_MAX - r->head_len;
    size_t take = n < room ? n : room;
    memcpy(r->cur.data_head + r->head_len, s, take);
    r->head_len += take;
    r->cur.data_head[r->head_len] = '\0';
    if (r->head_len == UPDATE_HEAD_MAX)
        r->capturing = false;
}

static int string_byte(struct update_reader *r, char c)
{
    if (c == '"') {
        r->capturing = false;
        if (r->in_key)
            return key_done(r);
        value_done(r);
        return 0;
    }
    if (c == '\\') {
        r->capturing = false; /* the head ends at the first escape */
        r->st = S_ESCAPE;
        return 0;
    }
    if ((unsigned char)c < 0x20)
        return fail(r); /* control characters must be escaped */
    if (r->capturing)
        capture(r, &c, 1);
    if (r->in_key && r->key_len <= KEY_MAX) {
        if (r->key_len < KEY_MAX)
            r->key[r->key_len] = c;
        r->key_len++;
    }
    return 0;
}

/* One byte in any state: 0, or -1 on error. */
static int feed_byte(struct update_reader *r, char c)
{
    for (;;) {
        int rc;
        switch (r->st) {
        case S_VALUE:
            return IS_WS(c) ? 0 : value_start(r, c);
        case S_OBJ_FIRST:
        case S_OBJ_KEY:
            if (IS_WS(c))
                return 0;
            if (c == '}' && r->st == S_OBJ_FIRST)
                return close_container(r);
            if (c != '"')
                return fail(r);
            r->in_key = true;
            r->key_len = 0;
            r->key_escaped = false;
            r->st = S_STRING;
            return 0;
        case S_COLON:
            if (IS_WS(c))
                return 0;
            if (c != ':')
                return fail(r);
            r->st = S_VALUE;
            return 0;
        case S_OBJ_NEXT:
        case S_ARR_NEXT:
            if (IS_WS(c))
                return 0;
            if (c == ',') {
                r->st = r->st == S_OBJ_NEXT ? S_OBJ_KEY : S_VALUE;
                return 0;
            }
            if (c != (r->st == S_OBJ_NEXT ? '}' : ']'))
                return fail(r);
            return close_container(r);
        case S_ARR_FIRST:
            if (IS_WS(c))
                return 0;
            if (c == ']')
                return close_container(r);
            return value_start(r, c);
        case S_STRING:
            return string_byte(r, c);
        case S_ESCAPE:
            r->key_escaped |= r->in_key;
            if (c == 'u') {
                r->hex_left = 4;
                r->st = S_HEX;
                return 0;
            }
            if (!strchr("\"\\/bfnrt", c) || c == '\0')
                return fail(r);
            r->st = S_STRING;
            return 0;
        case S_HEX:
            if (!IS_HEX(c))
                return fail(r);
            if (--r->hex_left == 0)
                r->st = S_STRING;
            return 0;
        case S_NUMBER:
            rc = number_byte(r, c);
            if (rc != 1)
                return rc;
            continue; /* the byte after the number, in the state after it */
        case S_LITERAL:
            if (c != r->lit[r->lit_pos])
                return fail(r);
            if (r->lit[++r->lit_pos] == '\0')
                value_done(r);
            return 0;
        case S_END:
            return IS_WS(c) ? 0 : fail(r);
        }
        return fail(r);
    }
}

enum update_read_status update_reader_feed(struct update_reader *r, const char *buf,
                                           size_t len)
{
    if (r->status == UPDATE_READ_TOO_BIG)
        return r->status;
    if (len > r->max - r->fed) {
        r->status = UPDATE_READ_TOO_BIG; /* whatever the bytes were: the cap comes first */
        return r->status;
    }
    r->fed += len;
    if (r->status != UPDATE_READ_OK)
        return r->status;
    for (size_t i = 0; i < len; i++) {
        if (r->st == S_STRING && !r->in_key) {
            /* the bulk of a body is string contents ("data"): skip to the next byte that
             * matters without a call per byte */
            size_t j = i;
            while (j < len && buf[j] != '"' && buf[j] != '\\' &&
                   (unsigned char)buf[j] >= 0x20)
                j++;
            if (r->capturing)
                capture(r, buf + i, j - i);
            i = j;
            if (i == len)
                break;
        }
        if (feed_byte(r, buf[i]) != 0)
            return r->status;
    }
    return r->status;
}

enum update_read_status update_reader_finish(struct update_reader *r)
{
    if (r->status == UPDATE_READ_OK && r->st != S_END)
        r->status = UPDATE_READ_ERROR; /* the body ended inside the reply */
    return r->status;
}

const struct update *update_reader_updates(const struct update_reader *r, size_t *n)
{
    *n = r->status == UPDATE_READ_OK ? r->n : 0;
    return r->ups;
}

uint64_t update_reader_next(const struct update_reader *r)
{
    return r->next;
}

bool update_reader_reset(const struct update_reader *r)
{
    return r->reset;
}

/* ---- whole-text conveniences -------------------------------------------------------- */

/* Parse text whole as shape into a new reader; NULL when it is not the contract's (or out
 * of memory). The caller frees the reader. */
static struct update_reader *parse_whole(const char *text, size_t len,
                                         enum update_shape shape)
{
    struct update_reader *r = update_reader_new(len);
    if (!r)
        return NULL;
    update_reader_begin(r, shape);
    if (update_reader_feed(r, text, len) != UPDATE_READ_OK ||
        update_reader_finish(r) != UPDATE_READ_OK) {
        update_reader_free(r);
        return NULL;
    }
    return r;
}

int update_json_parse_one(const char *text, size_t len, struct update *out)
{
    struct update_reader *r = parse_whole(text, len, UPDATE_SHAPE_ONE);
    if (!r)
        return -1;
    size_t n;
    const struct update *u = update_reader_updates(r, &n);
    *out = u[0];
    update_reader_free(r);
    return 0;
}

int update_json_parse_events(const char *text, size_t len, uint64_t *next, bool *reset,
                             update_fn fn, void *ctx)
{
    struct update_reader *r = parse_whole(text, len, UPDATE_SHAPE_EVENTS);
    if (!r)
        return -1;
    size_t n;
    const struct update *u = update_reader_updates(r, &n);
    for (size_t i = 0; fn && i < n; i++)
        fn(ctx, &u[i]);
    *next = update_reader_next(r);
    *reset = update_reader_reset(r);
    update_reader_free(r);
    return 0;
}
