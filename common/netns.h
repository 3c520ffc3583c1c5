/* netns.h: network namespaces the lab creates for itself, each joined to this host by a
 * veth pair with private addresses the lab checked were unused, and removed again.
 *
 * The lab's rule is that its traffic goes to loopback or to addresses inside namespaces
 * it created, never to anyone else's. A namespace gives a test or a run a second network
 * stack with a real address off loopback, as another host would have, on a cable (the
 * veth pair) whose both ends are the lab's: the host end `pp-<pid>-<n>` holds the first
 * address of a /30, the end inside (NETNS_INNER_IF) the second. Inside there is `lo` and
 * that /30, and no other route, so nothing started in it can reach any other address
 * (netns_route_between adds another namespace of the lab, and only that).
 *
 * The /30 is the first one in the pool (10.213.0.0/16, then 172.29.0.0/16, then
 * 192.168.213.0/24) that overlaps no IPv4 address of this host (with its prefix) and no
 * route in any of its routing tables (the default route aside), as `ip -j -4 addr` and
 * `ip -j -4 route show table all` list them. Choosing and claiming it happen under an
 * flock on /run/pushpull-netns.lock, so two processes never pick the same one; each
 * claimed /30 is then itself a route the next one avoids.
 *
 * Names carry their owner: the namespace is `pp-<pid>-<n>[-<label>]`, the host end
 * `pp-<pid>-<n>` (15 bytes at most, IFNAMSIZ), where pid is the process that created it.
 * That is how a namespace outlives its owner by a moment (tens of milliseconds) at most:
 *   - the first netns_create of a process starts a watcher (a grandchild in a session of
 *     its own, so a Ctrl-C at the terminal does not reach it) that waits on a pidfd of
 *     that process; when the process ends, however it ends (exit, crash, Ctrl-C,
 *     SIGKILL), the watcher removes every `pp-<pid>-*` namespace it left and exits;
 *   - and the first netns_create of every process first sweeps: it removes the
 *     namespaces of owners that are gone (no process, or a zombie), in case a watcher was
 *     itself killed or the machine lost power (/run is a tmpfs, so a reboot clears them).
 * Removing a namespace kills (SIGKILL) whatever still runs inside it, deletes the host
 * end (which deletes the pair) and then the namespace. Nothing else on the host changes:
 * no sysctl but the forwarding flag of the lab's own host ends (netns_route_between),
 * no firewall rule, no bridge (`ip netns add` makes /run/netns a shared mount point the
 * first time, as it always does).
 *
 * iproute2's `ip` does the work (fork and execv, no shell; /usr/sbin/ip or /sbin/ip), so
 * a failure is reported as `ip` reports it. Every function needs root (CAP_SYS_ADMIN and
 * CAP_NET_ADMIN) and writes a one-line message into the caller's buffer on failure:
 * "netns pp-4711-1: add the veth pair: ip link add ...: <ip's stderr>". Not safe to call
 * from two threads of one process at once.
 */
#ifndef PUSHPULL_NETNS_H
#define PUSHPULL_NETNS_H

#include <stddef.h>
#include <netinet/in.h>
#include <sys/types.h>

#define NETNS_NAME_MAX  64    /* "pp-<pid>-<n>-<label>" and its NUL */
#define NETNS_IF_MAX    16    /* IFNAMSIZ */
#define NETNS_LABEL_MAX 32    /* a label is 1 to 32 of a-z, 0-9 and - */
#define NETNS_INNER_IF  "pp0" /* the veth end inside every namespace */
#define NETNS_PREFIX    30    /* each namespace's subnet is a /30 */
#define NETNS_IP_WAIT_S 10    /* how long one `ip` command may take */

/* One namespace of the lab. A zeroed struct means "none": netns_remove does nothing. */
struct netns {
    char name[NETNS_NAME_MAX];  /* the namespace, /run/netns/<name> */
    char host_if[NETNS_IF_MAX]; /* the veth end on this host: "pp-<pid>-<n>" */
    struct in_addr net;         /* the /30's network address */
    struct in_addr host_addr;   /* net + 1, on host_if */
    struct in_addr ns_addr;     /* net + 2, on NETNS_INNER_IF inside */
    int fd;                     /* /run/netns/<name>, O_RDONLY | O_CLOEXEC, for setns */
};

/* Create a namespace with lo up, a veth pair with one end inside, a /30 from the pool
 * (above) on the two ends, both up. label (NULL for none) is added to the name so `ip
 * netns list` shows what it is for ("server-1"); it must be 1 to 32 of a-z, 0-9 and -.
 * 0 with *ns filled; or -1 with a message in err and nothing left behind (*ns zeroed).
 * The caller owns the namespace and removes it with netns_remove; should the caller's
 * process end first, the watcher removes it (above). */
int netns_create(struct netns *ns, const char *label, char *err, size_t errlen);

/* Remove the namespace: kill (SIGKILL) every process still in it (the caller reaps its
 * own children), delete the veth pair, delete the namespace, close ns->fd, and zero *ns.
 * Every step is tried even when one fails. 0; or -1 with the first failure in err. A
 * zeroed *ns, or one already removed, is fine. */
int netns_remove(struct netns *ns, char *err, size_t errlen);

/* Start argv (NULL-terminated; argv[0] is a path: execv, no PATH search) inside the
 * namespace: fork, setns(CLONE_NEWNET) on ns->fd, execv. Its stdout and stderr go to
 * out_fd and err_fd (-1: the caller's own). The child's pid once execv has succeeded;
 * the caller reaps it (waitpid, or proc_adopt). -1 with a message in err when fork,
 * setns or execv failed (the child is reaped then). */
pid_t netns_spawn(const struct netns *ns, const char *const argv[], int out_fd, int err_fd,
                  char *err, size_t errlen);

/* The same, but the child runs fn(arg) inside the namespace and _exits with its return
 * value (0 to 255), for tests that play a host of their own. The child is a fork of the
 * caller: it has a copy of its memory and only the calling thread. The child's pid; the
 * caller reaps it. -1 with a message in err. */
pid_t netns_fork(const struct netns *ns, int (*fn)(void *arg), void *arg, char *err,
                 size_t errlen);

/* Let a and b reach each other: inside each, a route to the other's /30 through its own
 * host end, and forwarding on for the two host ends (net.ipv4.conf.<host_if>.forwarding;
 * only packets that came in through them, and neither namespace has any other route).
 * 0, or -1 with a message in err. For runs whose clients and servers are in different
 * namespaces. */
int netns_route_between(const struct netns *a, const struct netns *b, char *err,
                        size_t errlen);

/* Remove the namespaces whose owner is gone (no such process, or a zombie), and those of
 * this process's pid when this process has created none (a predecessor with the same
 * pid left them). netns_create does this once per process; a conductor may call it at
 * its start. The number removed, or -1 with a message in err. */
int netns_sweep(char *err, size_t errlen);

#endif
