/* daemon/ctl/ctl.h — the control socket server (SPEC §5.3) on the daemon's loop. */
#ifndef FINFEED_CTL_H
#define FINFEED_CTL_H

#include <stddef.h>

#include "daemon/service/service_int.h"

/* Listen on the unix socket `path` (mode 0660; a stale socket is replaced, a
 * live daemon's is not). Returns 0, or a negative errno with the reason in err. */
int ctl_start(struct daemon *d, const char *path, struct ctl **out, char *err, size_t errsize);
/* Close every client and the socket (removing its file); `done` fires once
 * the handles are closed. */
void ctl_stop(struct ctl *ctl, void (*done)(void *arg), void *arg);

/* Re-read the configuration (daemon.c): 0, or a negative errno with the
 * reason in err and the old configuration still in force. */
int daemon_reload(struct daemon *d, char *err, size_t errsize);

/* Apply `retention` now (daemon.c), in the worker in order with the ingest
 * jobs; `done` (may be NULL) fires on the loop thread with the outcome
 * (at once when retention is 0). Returns 0 or -ENOMEM (done not called). */
int daemon_prune(struct daemon *d, void (*done)(void *arg, int rc, long deleted, const char *err),
                 void *arg);

#endif
