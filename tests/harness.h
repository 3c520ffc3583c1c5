/* harness.h: what the integration tests need to drive a real pushpull-server: start it
 * on a free port, speak raw HTTP/1.1 to it byte for byte, and stop it by pid. Programs
 * are started, waited for and stopped through common/proc.h, as the conductor does.
 *
 * Raw sockets rather than libcurl on purpose: these tests are the independent observer
 * of the server's byte accounting, so they must know exactly which bytes they sent and
 * received. Every wait is bounded in time.
 */
#ifndef PUSHPULL_HARNESS_H
#define PUSHPULL_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "dynbuf.h"
#include "proc.h"

/* Start argv[0] with argv (common/proc.h: its own process group, SIGTERM if this process
 * dies); the child's fd `piped` (STDOUT_FILENO or STDERR_FILENO) goes to a pipe whose
 * read end is stored in *read_fd (the caller closes it). With `quiet`, the child's stdout
 * goes to /dev/null (when it is not the piped one). The child's pid (reap it with
 * harness_wait or harness_stop_pid), or -1. */
pid_t harness_spawn(const char *const argv[], int piped, bool quiet, int *read_fd);
/* The port on the first line a program started with its stdout on a pipe or a file
 * prints ("<prefix>...:PORT"), waiting at most 10 s (common/proc.c's proc_first_line);
 * 0 when the line does not come or does not start with prefix. Every harness learns where
 * its program listens through this. */
unsigned harness_listening_port(struct proc *p, const char *prefix);
/* Wait for pid (a child of this process) at most timeout_ms. Its exit status, or -1 when
 * it died of a signal or is still running (it is then killed and reaped). */
int harness_wait(pid_t pid, int timeout_ms);
/* SIGTERM, then harness_wait(10 s). */
int harness_stop_pid(pid_t pid);

struct harness_server {
    pid_t pid;     /* the server process */
    unsigned port; /* the port it reported on its first line */
    int out;       /* its stdout after that line (a pipe; closed by harness_server_stop) */
};

/* Start $PUSHPULL_SERVER (default build/asan/bin/pushpull-server) with --port 0 and the
 * NULL-terminated extra args (a --port among them wins); wait (at most 10 s) for
 * "listening on ...". 0 or -1. */
int harness_server_start(struct harness_server *s, const char *const *args);
/* SIGTERM, then wait at most 10 s (SIGKILL after). Returns the exit status, or -1 when it
 * had to be killed or died of a signal. */
int harness_server_stop(struct harness_server *s);

/* Run $PUSHPULL_SERVER with these NULL-terminated args to completion (10 s at most),
 * collecting its stderr into err. Returns its exit status, or -1. */
int harness_server_run(const char *const *args, struct dynbuf *err);

/* A blocking TCP connection to 127.0.0.1:port, or -1. */
int harness_connect(unsigned port);
/* Write all of s. 0 or -1. */
int harness_send(int fd, const char *s, size_t len);
/* Read into buf until it holds `needle` (NULL: until EOF) or timeout_ms passes. Returns 1
 * when found (or EOF reached for NULL), 0 on timeout, -1 on EOF/error before the needle. */
int harness_read_until(int fd, struct dynbuf *buf, const char *needle, int timeout_ms);
/* 1 if the peer closed (EOF) within timeout_ms, else 0. */
int harness_wait_eof(int fd, int timeout_ms);
/* A hostile peer's whole exchange on a fresh connection: send len bytes of data (shutting
 * the write side afterwards when half_close is set), then read what comes back into out
 * until the server closes or timeout_ms passes. 1 when the server closed (EOF or a
 * reset), 0 when the connection was still open at the timeout, -1 when it could not be
 * made. */
int harness_exchange(unsigned port, const char *data, size_t len, bool half_close,
                     int timeout_ms, struct dynbuf *out);
/* Poll GET /stats until the number at `path` is at most `most`, for at most timeout_ms.
 * Returns the last value read (-1 when /stats could not be read). */
double harness_stat_wait_at_most(unsigned port, const char *path, double most,
                                 int timeout_ms);

/* A parsed HTTP response as it came off the wire. */
struct harness_response {
    int status;              /* status code */
    struct dynbuf raw;       /* every byte received for this response */
    size_t head_len;         /* status line + headers + blank line */
    char *body;              /* points into raw (de-chunked copy for chunked bodies) */
    size_t body_len;         /* entity bytes */
    struct dynbuf dechunked; /* holds the body when the response was chunked */
};

/* Read one complete response from fd (Content-Length, chunked, or until EOF). 0 or -1. */
int harness_read_response(int fd, struct harness_response *r, int timeout_ms);
/* The value of header `name` in r (case-insensitive), copied into out; 0 or -1. */
int harness_header(const struct harness_response *r, const char *name, char *out,
                   size_t outlen);
void harness_response_free(struct harness_response *r);

/* One request on a fresh connection: "METHOD TARGET HTTP/1.1" + Host + extra header lines
 * (each ending in \r\n, may be NULL) + body. 0 or -1. */
int harness_http(unsigned port, const char *method, const char *target, const char *headers,
                 const char *body, size_t body_len, struct harness_response *r);
/* GET /stats parsed with cJSON (caller deletes), or NULL. */
cJSON *harness_stats(unsigned port);
/* A number at a dotted path in a /stats document, e.g. "transports.events.open"; -1 if
 * absent. */
double harness_stat(const cJSON *stats, const char *path);
/* POST /publish with this text; returns the new seq or 0. */
uint64_t harness_publish(unsigned port, const char *text);
/* Decode the HTTP/1.1 chunked bytes in `in` into out as far as complete chunks go; sets
 * *ended when the last chunk (size 0) was seen. Returns the bytes of `in` consumed. */
size_t harness_dechunk(const char *in, size_t len, struct dynbuf *out, int *ended);
/* Milliseconds on the monotonic clock. */
int64_t harness_now_ms(void);
void harness_sleep_ms(int ms);

#endif
