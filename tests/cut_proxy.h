/* cut_proxy.h: a TCP proxy on loopback that can lose one reply, on purpose.
 *
 * Put between a program and Redis, it passes bytes both ways untouched, until it is armed
 * with a marker: the next request holding the marker (say "EVALSHA") is passed on whole,
 * and when the answer comes back the proxy closes both connections without passing it
 * on. The command ran; its client never learns so. That is the worst moment for a
 * connection to die, and the one that decides whether a retry publishes twice.
 *
 * One thread, poll() over the listener and every connection pair, stopped with a flag
 * and a join. For tests only: the marker must arrive within one read.
 */
#ifndef PUSHPULL_CUT_PROXY_H
#define PUSHPULL_CUT_PROXY_H

struct cut_proxy;

/* Listen on a free loopback port and pass connections on to 127.0.0.1:upstream_port.
 * NULL on failure (the reason on stderr). Stop and free it with cut_proxy_stop. */
struct cut_proxy *cut_proxy_start(unsigned upstream_port);
/* The port it listens on. */
unsigned cut_proxy_port(const struct cut_proxy *p);
/* Lose the answer to the next request holding marker (copied), once. */
void cut_proxy_arm(struct cut_proxy *p, const char *marker);
/* Severed, it closes every connection it carries and each new one at once, as a
 * network partition between the program and Redis would; restored, it carries them
 * again. */
void cut_proxy_sever(struct cut_proxy *p, int severed);
/* Answers lost so far. */
int cut_proxy_cuts(struct cut_proxy *p);
/* Close everything and free. NULL is fine. */
void cut_proxy_stop(struct cut_proxy *p);

#endif
