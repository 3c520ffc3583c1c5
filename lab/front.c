/* front.c: nghttpx in front of the lab server, with its certificate (front.h).
 *
 * The certificate is made for each run by the openssl command: a P-256 ECDSA key and a
 * self-signed certificate valid for two days, whose subjectAltName covers the names the
 * client gives its users (*.pushpull.invalid: each user, or group of users sharing a
 * connection, has a private host name, clients/user.c), localhost and 127.0.0.1. The
 * client trusts exactly this file (--cacert). A one-certificate chain is the smallest a
 * TLS handshake can carry; a deployed site sends its leaf and an intermediate
 * (docs/MODELS.md, "TLS"), so the handshake bytes measured here are a floor.
 *
 * nghttpx's settings, and why:
 *   frontend plain and TLS     one process serves all four protocols: the plain port
 *                              takes HTTP/1.1 and HTTP/2 by prior knowledge (it tells
 *                              them apart by the connection preface, RFC 9113 section
 *                              3.4), the TLS port offers h2 and http/1.1 by ALPN;
 *   backend proto=http/1.1     libmicrohttpd speaks nothing else;
 *   workers=1, single-process  one thread, as the lab server's loop, so the front's own
 *                              CPU is one process to read;
 *   timeouts                   frontend read, write and keep-alive, backend read, write
 *                              and keep-alive, and HTTP/2 stream writes are all 4 hours,
 *                              above the longest silence a scenario may ask for (a long
 *                              poll's hold is at most 120 s, a stream's heartbeat at most
 *                              3600 s, a poll interval at most an hour), so the front
 *                              never cuts what the lab is measuring: nghttpx's defaults
 *                              (1 min read, 2 s backend keep-alive) would end 2-minute
 *                              holds and reconnect slow pollers. Idle cuts by a middlebox
 *                              are the link's to emulate (scenario "network");
 *   no-via, no X-Forwarded-*   the front adds no header the server does not need, so
 *                              the server sees the same requests as without it;
 *   no-ocsp                    nothing to staple for a self-signed certificate.
 * The ports are chosen free at start (bound to port 0 and released), since nghttpx
 * does not report a port it picked itself.
 */
#include "front.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"

#define CERT_TIMEOUT_MS 20000
#define FRONT_TIMEOUT_S (4 * 3600L) /* every nghttpx timeout (see above) */

int front_find(const char *program, char *out, size_t cap, char *err, size_t errlen)
{
    const char *pkg = strcmp(program, "nghttpx") == 0 ? "nghttp2-proxy" : program;
    const char *env = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/usr/bin", env ? env : "");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        if (!d[0])
            continue;
        snprintf(out, cap, "%s/%s", d, program);
        if (access(out, X_OK) == 0)
            return 0;
    }
    snprintf(err, errlen,
             "%s is not installed: the protocols behind a front need it (apt-get install "
             "%s, which ./run.sh setup does)",
             program, pkg);
    return -1;
}

/* Run argv to its end (at most timeout_ms), its output in out_path. 0 when it exited 0. */
static int run_to_end(const char *const *argv, const char *name, const char *out_path,
                      int timeout_ms, char *err, size_t errlen)
{
    struct proc p;
    proc_init(&p);
    struct proc_spec spec = {.argv = argv,
                             .name = name,
                             .out = PROC_FILE,
                             .out_path = out_path,
                             .err = PROC_FILE,
                             .err_path = out_path};
    if (proc_start(&p, &spec, err, errlen) != 0)
        return -1;
    if (!proc_wait(&p, timeout_ms)) {
        proc_stop(&p, 1000);
        snprintf(err, errlen, "%s did not finish within %d s (see %s)", name,
                 timeout_ms / 1000, out_path);
        return -1;
    }
    if (proc_exit_code(&p) != 0) {
        char how[96];
        proc_describe(&p, how, sizeof(how));
        snprintf(err, errlen, "%s %s (see %s)", name, how, out_path);
        return -1;
    }
    return 0;
}

static int make_certificate(struct front *f, const char *dir, char *err, size_t errlen)
{
    char openssl[FRONT_PATH_MAX], log[FRONT_PATH_MAX];
    if (front_find("openssl", openssl, sizeof(openssl), err, errlen) != 0)
        return -1;
    snprintf(log, sizeof(log), "%s/openssl.log", dir);
    const char *argv[] = {
        openssl,
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        f->key,
        "-out",
        f->cert,
        "-days",
        "2",
        "-subj",
        "/CN=pushpull lab front",
        "-addext",
        "subjectAltName=DNS:*.pushpull.invalid,DNS:localhost,IP:127.0.0.1",
        NULL};
    return run_to_end(argv, "openssl (the front's certificate)", log, CERT_TIMEOUT_MS, err,
                      errlen);
}

int front_prepare(struct front *f, const char *dir, const char *backend, char *err,
                  size_t errlen)
{
    proc_init(&f->proc);
    snprintf(f->cert, sizeof(f->cert), "%s/front-cert.pem", dir);
    snprintf(f->key, sizeof(f->key), "%s/front-key.pem", dir);
    snprintf(f->conf, sizeof(f->conf), "%s/nghttpx.conf", dir);
    snprintf(f->log, sizeof(f->log), "%s/nghttpx.log", dir);
    snprintf(f->out, sizeof(f->out), "%s/nghttpx.out", dir);
    snprintf(f->access_log, sizeof(f->access_log), "%s/nghttpx-access.log", dir);
    if (front_find("nghttpx", f->nghttpx, sizeof(f->nghttpx), err, errlen) != 0 ||
        make_certificate(f, dir, err, errlen) != 0)
        return -1;
    const char *colon = strrchr(backend, ':');
    if (!colon) {
        snprintf(err, errlen, "the front's backend \"%s\" is not ADDR:PORT", backend);
        return -1;
    }
    f->plain_port = loopback_free_port();
    f->tls_port = loopback_free_port();
    if (!f->plain_port || !f->tls_port || f->plain_port == f->tls_port) {
        snprintf(err, errlen, "no free loopback port for the front");
        return -1;
    }
    const long timeout_s = FRONT_TIMEOUT_S;
    FILE *c = fopen(f->conf, "w");
    if (!c) {
        snprintf(err, errlen, "%s: %s", f->conf, strerror(errno));
        return -1;
    }
    fprintf(c,
            "# nghttpx for one pushpull run, written by pushpull-lab (lab/front.c says "
            "why each line is here)\n"
            "frontend=127.0.0.1,%u;no-tls\n"
            "frontend=127.0.0.1,%u\n"
            "backend=%.*s,%s;;proto=http/1.1\n"
            "private-key-file=%s\n"
            "certificate-file=%s\n"
            "workers=1\n"
            "single-process=yes\n"
            "no-ocsp=yes\n"
            "no-via=yes\n"
            "no-add-x-forwarded-proto=yes\n"
            "errorlog-file=%s\n"
            "accesslog-file=%s\n"
            "frontend-read-timeout=%lds\n"
            "frontend-http2-read-timeout=%lds\n"
            "frontend-keep-alive-timeout=%lds\n"
            "frontend-write-timeout=%lds\n"
            "stream-write-timeout=%lds\n"
            "backend-read-timeout=%lds\n"
            "backend-write-timeout=%lds\n"
            "backend-keep-alive-timeout=%lds\n",
            f->plain_port, f->tls_port, (int)(colon - backend), backend, colon + 1, f->key,
            f->cert, f->log, f->access_log, timeout_s, timeout_s, timeout_s, timeout_s,
            timeout_s, timeout_s, timeout_s, timeout_s);
    if (fclose(c) != 0) {
        snprintf(err, errlen, "%s: %s", f->conf, strerror(errno));
        return -1;
    }
    return 0;
}

/* The log's last non-empty line, or "" (for messages). */
static void last_line(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char line[1024];
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0])
            snprintf(out, cap, "%.500s", line);
    }
    fclose(fp);
}

/* How many "Listening on" lines the log has. */
static int listening(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof(line), fp))
        n += strstr(line, "Listening on ") != NULL;
    fclose(fp);
    return n;
}

int front_start(struct front *f, struct runargs *argv, int timeout_ms, char *err,
                size_t errlen)
{
    runargs_add(argv, f->nghttpx);
    runargs_addf(argv, "--conf=%s", f->conf);
    if (argv->failed) {
        snprintf(err, errlen, "the front's command line: out of memory");
        return -1;
    }
    struct proc_spec spec = {.argv = (const char *const *)argv->v,
                             .name = "the front (nghttpx)",
                             .out = PROC_FILE,
                             .out_path = f->out,
                             .err = PROC_FILE,
                             .err_path = f->out};
    unlink(f->log);
    if (proc_start(&f->proc, &spec, err, errlen) != 0)
        return -1;
    for (int waited = 0; waited < timeout_ms; waited += 5) {
        if (listening(f->log) >= 2)
            return 0;
        if (proc_poll(&f->proc))
            break;
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    char how[96], last[512];
    proc_describe(&f->proc, how, sizeof(how));
    const char *file = f->log;
    last_line(file, last, sizeof(last));
    if (!last[0]) { /* it failed before it opened its log: the reason is on stderr */
        file = f->out;
        last_line(file, last, sizeof(last));
    }
    snprintf(err, errlen, "the front (nghttpx) %s before it listened on both ports; %s: %s",
             f->proc.running ? "did not start in time" : how, file,
             last[0] ? last : "(empty)");
    return -1;
}

int front_usage(const struct front *f, double *cpu_s, long *peak_rss_kb)
{
    return proc_usage(&f->proc, cpu_s, peak_rss_kb);
}
