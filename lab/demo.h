/* demo.h: pushpull-lab demo, the classroom demo: the server with a live generator behind
 * the link emulator, the page served through the link, both stopped together.
 */
#ifndef PUSHPULL_DEMO_H
#define PUSHPULL_DEMO_H

/* Run the demo until SIGINT or SIGTERM (or until one of its programs ends). argv[0] is
 * "demo", the flags follow; the programs are taken from bin_dir. Returns the exit status:
 * 0 when both programs stopped cleanly, 1 when one failed, 2 for a bad command line
 * (one line on stderr naming the flag). */
int lab_demo(const char *bin_dir, int argc, char **argv);

#endif
