/* daemon/ctl/ctl_int.h — shared inside the control socket server only
 * (daemon/ctl/ctl.c), and with its fuzz target (fuzz/fuzz_ctl.c): the
 * request line parser, a plain function tested without a socket. */
#ifndef FINFEED_CTL_INT_H
#define FINFEED_CTL_INT_H

/* Splits a request line (modified in place: NUL written after each word)
 * into its words, separated by runs of blanks (space, tab); argv gets
 * pointers into line. Returns the number of words, 0 to max, or -E2BIG
 * when the line has more than max (argv then holds the first max). */
int ctl_split(char *line, char **argv, int max);

#endif
