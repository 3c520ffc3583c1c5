/* user_http.c: the seam both HTTP drivers call: a response's head lines and body judged
 * once, and the one place a user's sockets are counted as they open, set up and close.
 *
 * Two HTTP drivers, chosen per run (--http-driver): the client's own HTTP/1.1
 * (http_conn.c, the default), which counts request and response bytes at its socket's
 * single write and read sites and calls user_http_begun, user_http_head_line,
 * user_http_body and user_http_end; or libcurl, whose callbacks (user_curl.c) call the same
 * functions. So a response's head lines, its body's split into payload and framing, the
 * outcome and the next request are judged in one place whichever driver read them. With
 * the raw driver the transfer's own limits (connect, whole transfer, answer) are this
 * file's too (user_arm_limits, user.c); libcurl keeps its connect and transfer limits
 * itself.
 *
 * Techniques that run their own socket (the WebSocket) count through the same functions
 * (user_socket_opened, user_socket_close, user_count_setup), so each count still has one
 * place. Every site that counts bytes crossing a user's socket also notes them, once, for
 * traffic.csv (user_note_traffic, here: the raw driver's read and write sites, libcurl's
 * header, body and request counts, the WebSocket's read and write sites).
 */
#include "user.h"

#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "foreign.h"
#include "partition.h"
#include "sockacct.h"
#include "user_impl.h"

/* If line is "Name: value\r\n" for `name` (any case), point *val at the trimmed value. */
static int header_value(const char *line, size_t len, const char *name, const char **val,
                        size_t *vlen)
{
    size_t n = strlen(name);
    if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
        return 0;
    const char *v = line + n + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *val = v;
    *vlen = (size_t)(end - v);
    return 1;
}

/* The final header block has ended: let the transport look at status and type. */
static void headers_complete(struct user *u)
{
    long status = 0;
    const char *ctype = u->resp_ctype;
    if (u->easy) {
        curl_easy_getinfo(u->easy, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(u->easy, CURLINFO_CONTENT_TYPE, &ctype);
    } else {
        status = u->hc->resp.status;
        u->chunked = u->hc->resp.chunked; /* the reader's judgement of the framing */
    }
    if (status >= 100 && status < 200)
        return; /* an interim response; the real one follows */
    u->headers_done = true;
    u->status = status;
    u->answer_due = 0;
    if (!u->abort_requested)
        user_arm_limits(u); /* answered in time */
    chunked_init(&u->chunk);
    if (u->ops->on_headers(u, status, ctype ? ctype : "") != 0) {
        u->refused = true;
        user_abort_soon(u);
    }
}

/* One raw head line of the answer, from either driver (each counts the bytes itself). */
void user_http_head_line(struct user *u, const char *buf, size_t len)
{
    const char *v;
    size_t vlen;
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        u->headers_done = false;
        u->chunked = false;
        if (u->answer_validators)
            foreign_cursor_clear(u->answer_validators);
        u->resp_ctype[0] = '\0';
    } else if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        headers_complete(u);
    } else if (header_value(buf, len, "Transfer-Encoding", &v, &vlen)) {
        u->chunked = vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0;
    } else if (header_value(buf, len, "ETag", &v, &vlen)) {
        foreign_note_validator(u, true, v, vlen);
    } else if (header_value(buf, len, "Last-Modified", &v, &vlen)) {
        foreign_note_validator(u, false, v, vlen);
    } else if (!u->easy && header_value(buf, len, "Content-Type", &v, &vlen) &&
               vlen < sizeof(u->resp_ctype)) {
        memcpy(u->resp_ctype, v, vlen);
        u->resp_ctype[vlen] = '\0';
    }
}

/* Payload on its way to the transport (unless refused). */
static void deliver(void *ctx, const char *buf, size_t len)
{
    struct user *u = ctx;
    if (!u->refused && !u->framing_error && len > 0)
        u->ops->on_body(u, buf, len);
}

/* Raw body bytes from either driver. The single count of body and framing bytes. */
void user_http_body(struct user *u, const char *buf, size_t len)
{
    uint64_t payload = len, framing = 0;
    if (u->chunked) {
        uint64_t p0 = u->chunk.payload_bytes;
        size_t used = 0;
        enum chunked_status st = u->framing_error
                                     ? CHUNKED_ERROR
                                     : chunked_feed(&u->chunk, buf, len, &used, deliver, u);
        payload = u->chunk.payload_bytes - p0;
        framing = len - payload; /* includes any bytes past the end or past an error */
        if (st == CHUNKED_ERROR || used < len) {
            u->framing_error = true;
            user_abort_soon(u);
        }
    } else {
        deliver(u, buf, len);
    }
    counters_add(u->ctr, CTR_RESP_BODY_BYTES, payload, u->ctr->measuring);
    counters_add(u->ctr, CTR_CHUNK_FRAMING_BYTES, framing, u->ctr->measuring);
}

void user_note_traffic(struct user *u, int64_t t_ns, uint64_t up, uint64_t down,
                       bool in_window)
{
    const struct user *owner = u->feed ? u->feed : u; /* a sender's bytes are its user's */
    if (u->env->traffic && !u->observer && !u->publisher) {
        /* the population's id, so N partitions' files concatenate (partition.h) */
        const struct client_config *cfg = u->env->cfg;
        uint32_t gid =
            partition_global_id(cfg->partition_index, cfg->partition_count, owner->id);
        traffic_note(u->env->traffic, owner->slot, gid, t_ns, up, down, in_window);
    }
}

void user_count_setup(struct user *u, int fd, uint64_t tls_us)
{
    uint64_t bytes = 0;
    if (!wire_first_request(u->env->wire, fd, &bytes))
        return;
    counters_add(u->ctr, CTR_SETUPS, 1, u->ctr->measuring);
    counters_add(u->ctr, CTR_SETUP_BYTES, bytes, u->ctr->measuring);
    counters_add(u->ctr, CTR_TLS_HANDSHAKE_US, tls_us, u->ctr->measuring);
}

/* CURLOPT_PREREQFUNCTION: the connection is ready and the request is about to be sent
 * (for transports whose answer waits for news, that ends an outage: user.h). Until
 * libcurl gets this far with a transfer it has not reset the previous transfer's
 * CURLINFO_REQUEST_SIZE, so a transfer stopped before this point (the run ended in the
 * same loop turn that queued it) must count no request bytes. */
void user_http_begun(struct user *u)
{
    if (u->hc)
        user_count_setup(u, u->hc->fd, 0); /* plain HTTP/1.1: no TLS, no setup bytes */
    u->request_begun = true;
    if (u->down && !u->down_answered && u->ops->up_on_connect)
        user_note_up(u); /* a live server has the request: it is held, not failing */
}

/* The one place connections are counted, for libcurl's sockets and own ones. */
void user_socket_opened(struct user *u, int fd)
{
    wire_opened(u->env->wire, fd, u->ctr);
    counters_add(u->ctr, CTR_CONNECTIONS, 1, u->ctr->measuring);
    counters_add(u->ctr, CTR_RECONNECTS, u->sockets_ever > 0, u->ctr->measuring);
    u->sockets_ever++;
    u->sockets_open++;
    u->conn_seq_max = 0; /* a new connection: maybe to a restarted server */
}

/* The one place the kernel's account of a socket is read, then the socket closed.
 * Sequence-space corrections: tcpi_bytes_acked counts our SYN once the server acked it
 * (one byte no application wrote; a socket that never connected has written 0, and one
 * that did has at least that 1); sockacct_read already leaves out the server's FIN once
 * it arrived (a.peer_fin), as far as the socket's state tells: a FIN followed by a reset
 * (a server that closed and then got more bytes from us) leaves the socket CLOSED, where
 * the state no longer says that the FIN came, so a caller that saw it (a read returned 0,
 * or EPIPE, which a reset after a FIN gives) says so with fin_seen. Our own FIN never
 * counts: the account is read before we close. */
int user_socket_close(struct user *u, int fd, bool fin_seen)
{
    struct sockacct a;
    int read = sockacct_read(fd, &a);
    wire_closing(u->env->wire, fd, read == 0 ? &a : NULL);
    if (read == 0) {
        uint64_t late_fin = fin_seen && !a.peer_fin && a.read > 0;
        uint64_t fin = (uint64_t)a.peer_fin + late_fin;
        uint64_t syn = a.written > 0;
        counters_add(u->ctr, CTR_KERNEL_BYTES_SENT, a.written - syn, false);
        counters_add(u->ctr, CTR_KERNEL_BYTES_RECEIVED, a.read - late_fin, false);
        counters_add(u->ctr, CTR_KERNEL_SEGS_OUT, a.segs_out, false);
        counters_add(u->ctr, CTR_KERNEL_SEGS_IN, a.segs_in, false);
        counters_add(u->ctr, CTR_KERNEL_FIN_RECEIVED, fin, false);
    } else {
        counters_add(u->ctr, CTR_KERNEL_READ_ERRORS, 1, false);
    }
    if (u->sockets_open > 0)
        u->sockets_open--;
    return close(fd);
}
