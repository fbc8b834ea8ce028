/* daemon/service/prune.h — how big retention's batches are (prune.c), as a
 * plain function of numbers, checked by tests/test_prune.c without a loop. */
#ifndef FINFEED_SERVICE_PRUNE_H
#define FINFEED_SERVICE_PRUNE_H

#include <stdint.h>

/* A batch is one worker job: whatever is queued behind it (an ingest, a
 * claim) waits for it to end. Its size follows how long the last one took,
 * aiming at SERVICE_PRUNE_AIM_MS, well under the 100 ms nothing may wait. */
#define SERVICE_PRUNE_AIM_MS 40
#define SERVICE_PRUNE_FIRST 64 /* rows of the first batch of a stage */
#define SERVICE_PRUNE_MIN 8
#define SERVICE_PRUNE_MAX 4096

/* The size of the next batch after one of `batch` rows took `ms`
 * milliseconds: scaled to the aim when it took longer (batch × aim / ms),
 * doubled when it took under half the aim, else kept; always within
 * [SERVICE_PRUNE_MIN, SERVICE_PRUNE_MAX]. */
long service_prune_batch(long batch, uint64_t ms);

#endif
