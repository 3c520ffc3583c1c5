/* ws_handshake.c: the incremental response head parser and its verdict (ws_handshake.h).
 *
 * Bytes are appended to the current line until LF; the line (without its CR LF) is then
 * taken whole: the first is the status line, an empty one ends the head, any other is a
 * header line, of which only five names are looked at. A line longer than the buffer is
 * kept truncated and only its name is read, which is enough to skip it; one of the five
 * that long is refused, since its value could not be checked.
 */
#include "ws_handshake.h"

#include <string.h>
#include <strings.h>

#include "http_reader.h"

void ws_handshake_init(struct ws_handshake *h)
{
    memset(h, 0, sizeof(*h));
    h->st = WS_HS_MORE;
}

static enum ws_hs_status fail(struct ws_handshake *h)
{
    h->st = WS_HS_ERROR;
    return h->st;
}

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" */
static int status_line(struct ws_handshake *h, const char *s, size_t n)
{
    if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ')
        return -1;
    for (int i = 9; i < 12; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    if (n > 12 && s[12] != ' ')
        return -1;
    h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
    return 0;
}

enum which { H_OTHER, H_UPGRADE, H_CONNECTION, H_ACCEPT, H_EXTENSIONS, H_PROTOCOL };

static enum which which_header(const char *name, size_t n)
{
    static const struct {
        const char *name;
        enum which w;
    } known[] = {{"Upgrade", H_UPGRADE},
                 {"Connection", H_CONNECTION},
                 {"Sec-WebSocket-Accept", H_ACCEPT},
                 {"Sec-WebSocket-Extensions", H_EXTENSIONS},
                 {"Sec-WebSocket-Protocol", H_PROTOCOL}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strlen(known[i].name) == n && strncasecmp(name, known[i].name, n) == 0)
            return known[i].w;
    return H_OTHER;
}

/* One header line of full length `full` (only the first WS_HS_LINE_MAX bytes kept). */
static int header_line(struct ws_handshake *h, const char *s, size_t kept, size_t full)
{
    if (s[0] == ' ' || s[0] == '\t')
        return -1; /* obsolete line folding */
    size_t n = 0;
    while (n < kept && is_tchar(s[n]))
        n++;
    if (n == 0 || n == kept || s[n] != ':')
        return -1;
    enum which w = which_header(s, n);
    if (w == H_OTHER)
        return 0;
    if (kept < full)
        return -1; /* one of ours, too long to check */
    const char *v = s + n + 1, *end = s + kept;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    switch (w) {
    case H_UPGRADE:
        h->upgrade_ok |= vlen == 9 && strncasecmp(v, "websocket", 9) == 0;
        break;
    case H_CONNECTION:
        h->connection_ok |= http_list_has(v, vlen, "upgrade");
        break;
    case H_ACCEPT:
        if (h->accepts++ == 0 && vlen < sizeof(h->accept)) {
            memcpy(h->accept, v, vlen);
            h->accept[vlen] = '\0';
        }
        break;
    case H_EXTENSIONS:
        h->has_extensions |= vlen > 0;
        break;
    case H_PROTOCOL:
        h->has_protocol = true;
        break;
    case H_OTHER:
        break;
    }
    return 0;
}

/* A whole line (LF seen): its bytes without CR LF. */
static enum ws_hs_status line_done(struct ws_handshake *h)
{
    size_t full = h->line_len - (h->cr ? 1 : 0);
    size_t kept = full < WS_HS_LINE_MAX ? full : WS_HS_LINE_MAX;
    h->line_len = 0;
    h->cr = false;
    for (size_t i = 0; i < kept; i++) {
        unsigned char c = (unsigned char)h->line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F)
            return fail(h);
    }
    if (!h->status_line_done) {
        h->status_line_done = true;
        return status_line(h, h->line, kept) == 0 ? WS_HS_MORE : fail(h);
    }
    if (full == 0) {
        h->st = WS_HS_DONE;
        return h->st;
    }
    return header_line(h, h->line, kept, full) == 0 ? WS_HS_MORE : fail(h);
}

enum ws_hs_status ws_handshake_feed(struct ws_handshake *h, const char *buf, size_t len,
                                    size_t *used)
{
    size_t i = 0;
    while (h->st == WS_HS_MORE && i < len) {
        if (h->head_bytes == WS_HS_HEAD_MAX) {
            fail(h);
            break;
        }
        char c = buf[i++];
        h->head_bytes++;
        if (c == '\n') {
            line_done(h);
            continue;
        }
        if (h->line_len < WS_HS_LINE_MAX)
            h->line[h->line_len] = c;
        h->line_len++;
        h->cr = c == '\r';
    }
    *used = i;
    return h->st;
}

enum ws_hs_verdict ws_handshake_verdict(const struct ws_handshake *h,
                                        const char *expected_accept)
{
    if (h->st != WS_HS_DONE)
        return WS_HS_MALFORMED;
    if (h->status != 101)
        return WS_HS_STATUS;
    if (!h->upgrade_ok)
        return WS_HS_NO_UPGRADE;
    if (!h->connection_ok)
        return WS_HS_NO_CONNECTION;
    if (h->accepts != 1 || strcmp(h->accept, expected_accept) != 0)
        return WS_HS_BAD_ACCEPT;
    if (h->has_extensions)
        return WS_HS_EXTENSION;
    if (h->has_protocol)
        return WS_HS_SUBPROTOCOL;
    return WS_HS_OK;
}

const char *ws_handshake_verdict_name(enum ws_hs_verdict v)
{
    switch (v) {
    case WS_HS_OK:
        return "ok";
    case WS_HS_STATUS:
        return "status not 101";
    case WS_HS_NO_UPGRADE:
        return "no Upgrade: websocket";
    case WS_HS_NO_CONNECTION:
        return "no Connection: Upgrade";
    case WS_HS_BAD_ACCEPT:
        return "bad Sec-WebSocket-Accept";
    case WS_HS_EXTENSION:
        return "extension not asked for";
    case WS_HS_SUBPROTOCOL:
        return "subprotocol not offered";
    case WS_HS_MALFORMED:
        break;
    }
    return "malformed response";
}
