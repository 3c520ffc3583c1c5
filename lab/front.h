/* front.h: the proxy in front of the lab server for HTTP/2 and TLS runs (nghttpx).
 *
 * libmicrohttpd speaks HTTP/1.1 without TLS, which is how production push servers are
 * usually deployed anyway: behind a front that terminates TLS and HTTP/2 and talks
 * HTTP/1.1 to them. For a run whose protocol is not plain HTTP/1.1 straight to the
 * server, the conductor writes a self-signed certificate and an nghttpx configuration
 * into the run's directory, starts nghttpx on two loopback ports (one plain, which takes
 * HTTP/1.1 and HTTP/2 by prior knowledge, and one TLS, which offers h2 and http/1.1 by
 * ALPN), and stops it by pid at the end. front.c says which settings matter and why.
 */
#ifndef PUSHPULL_LAB_FRONT_H
#define PUSHPULL_LAB_FRONT_H

#include <stddef.h>

#include "proc.h"
#include "runargs.h"

#define FRONT_PATH_MAX 4200

struct front {
    struct proc proc;                /* nghttpx */
    unsigned plain_port;             /* HTTP/1.1 and h2c */
    unsigned tls_port;               /* https: ALPN h2 or http/1.1 */
    char cert[FRONT_PATH_MAX];       /* the certificate the client trusts (PEM) */
    char key[FRONT_PATH_MAX];        /* its private key */
    char conf[FRONT_PATH_MAX];       /* nghttpx.conf */
    char log[FRONT_PATH_MAX];        /* nghttpx's error log (it moves its stderr there) */
    char out[FRONT_PATH_MAX];        /* its stdout and stderr before it opens the log */
    char access_log[FRONT_PATH_MAX]; /* one line per request */
    char nghttpx[FRONT_PATH_MAX];    /* the program found */
};

/* The program a front needs, found on PATH or in /usr/sbin and /usr/bin: 0 with its path
 * in out, or -1 with a line naming the Debian package in err. `program` is "nghttpx" or
 * "openssl". */
int front_find(const char *program, char *out, size_t cap, char *err, size_t errlen);

/* Write the certificate, its key and nghttpx.conf into dir for a front to the server at
 * backend ("127.0.0.1:PORT"). 0, or -1 with one line in err. Not started yet. */
int front_prepare(struct front *f, const char *dir, const char *backend, char *err,
                  size_t errlen);

/* Start nghttpx (its exact argv into argv, for run.json) and wait, at most timeout_ms,
 * until it serves: its log says it listens on both ports. 0; or -1 with one line in err
 * that quotes the log's last line. The caller stops f->proc (proc_stop: SIGTERM ends
 * nghttpx at once), running or not. */
int front_start(struct front *f, struct runargs *argv, int timeout_ms, char *err,
                size_t errlen);

/* What the running front has cost so far, from /proc: its CPU (user + system) and its
 * peak resident memory. 0, or -1 when it cannot be read. */
int front_usage(const struct front *f, double *cpu_s, long *peak_rss_kb);

#endif
