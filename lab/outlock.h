/* outlock.h: one conductor per results directory. A second `pushpull-lab run` given the
 * --out of a run still going would delete that run's directories and mix the two runs'
 * files; instead it is refused, with one line naming the run that holds the directory.
 *
 * The lock is flock(2) on DIR/.pushpull-lab.lock, which holds the holder's pid for the
 * message. The kernel drops the lock when its holder dies, however it dies, so a lock
 * file left behind by a killed run stops nobody.
 */
#ifndef PUSHPULL_LAB_OUTLOCK_H
#define PUSHPULL_LAB_OUTLOCK_H

#include <stddef.h>

struct outlock {
    int fd;          /* the locked file, or -1 */
    char path[4096]; /* DIR/.pushpull-lab.lock */
};

/* Lock dir (it must exist). 0 with *l holding the lock; -1 with one line in err: another
 * run holds it (its pid), or a call failed. */
int outlock_take(struct outlock *l, const char *dir, char *err, size_t errlen);
/* Remove the lock file and release the lock. Safe on a lock never taken. */
void outlock_release(struct outlock *l);

#endif
