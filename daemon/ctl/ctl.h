/* daemon/ctl/ctl.h — the control socket server (SPEC §5.3) on the daemon's
 * loop: one request a line, one JSON reply a line, answered from service.h. */
#ifndef FINFEED_CTL_H
#define FINFEED_CTL_H

#include <stddef.h>

#include <uv.h>

struct ctl;
struct service;

/* Listen on the unix socket `path` (mode 0660; a stale socket is replaced, a
 * live daemon's is not) on `loop`, answering from svc (borrowed; it must
 * outlive the server). Returns 0, or a negative errno with the reason in err
 * (the loop may have to run once more to close the handles). */
int ctl_start(uv_loop_t *loop, struct service *svc, const char *path, struct ctl **out,
              char *err, size_t errsize);
/* Close every client and the socket (removing its file); `done` (may be
 * NULL) fires once the handles are closed. */
void ctl_stop(struct ctl *ctl, void (*done)(void *arg), void *arg);

/* For tests only: the next n client allocations fail as if memory ran out
 * (0 ends it). May be called from any thread. */
void ctl_test_fail_allocs(struct ctl *ctl, int n);

#endif
