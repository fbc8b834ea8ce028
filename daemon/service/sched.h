/* daemon/service/sched.h — the scheduler: when each feed is fetched (next fetch in
 * the store, one timer for the earliest, jitter, backoff, Retry-After,
 * ttl/max-age), and what happens to a fetched document (parsed and stored
 * off the loop thread, one job at a time). */
#ifndef FINFEED_SCHED_H
#define FINFEED_SCHED_H

#include "daemon/service/service_int.h"

/* Someone waiting for a feed's fetch to finish (a `refresh` client). `done`
 * fires once on the loop thread with the feed's new state; the waiter is
 * unlinked before the call and belongs to its owner again. */
struct waiter {
    struct waiter *next;
    void (*done)(struct waiter *w, struct feed_run *f);
    void *arg;
    size_t index;
};

/* Set up the timer and the job queue. Returns 0 or a negative errno. */
int sched_init(struct daemon *d);
/* Arm the timer for the earliest due feed. */
void sched_rearm(struct daemon *d);
/* Fetch `f` as soon as the limits allow, ahead of scheduled feeds. When it
 * is already in flight the request joins that fetch. `w` (may be NULL) is
 * called when it finishes. Returns 0, or -EPERM for a disabled feed (w not
 * called). */
int sched_refresh(struct daemon *d, struct feed_run *f, struct waiter *w);
/* Remove a waiter whose owner went away (it will not be called). */
void sched_forget(struct daemon *d, struct waiter *w);
/* Whether any feed is fetching or waiting for its ingest. */
int sched_busy(const struct daemon *d);
/* Stop: cancel fetches (waiters fire), close the timer; `done` fires when
 * the running job (if any) has finished and the timer is closed. */
void sched_stop(struct daemon *d, void (*done)(struct daemon *d));

/* Queue `fn` to run with the writer store in the worker, in order with the
 * ingest jobs, then `after` on the loop thread. Returns 0 or -ENOMEM. */
int sched_job(struct daemon *d, void (*fn)(struct daemon *d, void *arg),
              void (*after)(struct daemon *d, void *arg), void *arg);

#endif
