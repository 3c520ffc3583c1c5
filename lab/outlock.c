/* outlock.c: flock on a results directory (see outlock.h).
 *
 * Releasing removes the file while still holding the lock. A second run that opened the
 * file just before may then get the lock on a file no longer in the directory, while a
 * third creates a new file and locks that: both would believe they hold the directory. So
 * whoever gets the lock checks that the file it locked is still the one at the path, and
 * starts again when it is not.
 */
#include "outlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_NAME ".pushpull-lab.lock"

/* The pid written in the lock file fd, or 0. */
static long holder_pid(int fd)
{
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    return n > 0 ? strtol(buf, NULL, 10) : 0;
}

int outlock_take(struct outlock *l, const char *dir, char *err, size_t errlen)
{
    l->fd = -1;
    if (snprintf(l->path, sizeof(l->path), "%s/%s", dir, LOCK_NAME) >=
        (int)sizeof(l->path)) {
        snprintf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    for (int attempt = 0; attempt < 10; attempt++) {
        int fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "open %s: %s", l->path, strerror(errno));
            return -1;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = holder_pid(fd);
            close(fd);
            if (e == EWOULDBLOCK)
                snprintf(err, errlen,
                         "%s is in use by another run of pushpull-lab (pid %ld, lock %s): "
                         "wait for it to end, or give this run another --out",
                         dir, pid, l->path);
            else
                snprintf(err, errlen, "flock %s: %s", l->path, strerror(e));
            return -1;
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(l->path, &named) == 0 &&
            held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
            char pid[32];
            int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                snprintf(err, errlen, "writing %s: %s", l->path, strerror(errno));
                close(fd);
                return -1;
            }
            l->fd = fd;
            return 0;
        }
        close(fd); /* locked a file its holder removed on the way out: again */
    }
    snprintf(err, errlen, "%s: the lock file keeps changing under us", l->path);
    return -1;
}

void outlock_release(struct outlock *l)
{
    if (l->fd < 0)
        return;
    unlink(l->path);
    close(l->fd);
    l->fd = -1;
}
