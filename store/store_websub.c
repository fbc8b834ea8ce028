/* store/store_websub.c — WebSub subscriptions (SPEC §11), the face over the
 * backends' ops: arguments checked once here, the SQL in sqlite_websub.c
 * and pg_websub.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void
store_websub_clear(struct store_websub *w)
{
    if (w == NULL)
        return;
    free(w->callback);
    free(w->topic);
    free(w->hub);
    free(w->secret);
    memset(w, 0, sizeof(*w));
}

/* A callback id: 1 to 64 of [A-Za-z0-9_-]. */
static int
callback_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;
    return n >= 1 && n <= 64 &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static int
refuse(struct store *s, const char *why)
{
    snprintf(s->err, sizeof(s->err), "websub: %s", why);
    return -EINVAL;
}

int
store_websub_put(struct store *s, const struct store_websub *w)
{
    if (!callback_ok(w->callback))
        return refuse(s, "bad callback id");
    if (w->topic == NULL || w->hub == NULL || w->secret == NULL || w->feed_id <= 0)
        return refuse(s, "topic, hub, secret and feed are required");
    if (w->state < STORE_WS_PENDING || w->state > STORE_WS_UNSUBSCRIBING)
        return refuse(s, "bad state");
    return s->ops->ws_put(s, w);
}

int
store_websub_get(struct store *s, const char *callback, struct store_websub *out)
{
    memset(out, 0, sizeof(*out));
    if (!callback_ok(callback))
        return 0; /* no such id can exist */
    return s->ops->ws_get(s, callback, out);
}

int
store_websub_of_feed(struct store *s, int64_t feed_id, struct store_websub *out, size_t max,
                     size_t *n)
{
    *n = 0;
    if (max == 0)
        return 0;
    memset(out, 0, max * sizeof(*out));
    return s->ops->ws_of_feed(s, feed_id, out, max, n);
}

int
store_websub_set(struct store *s, const char *callback, int state, int64_t now, int64_t lease_s,
                 int64_t asked)
{
    if (!callback_ok(callback))
        return 0;
    if (state < STORE_WS_PENDING || state > STORE_WS_UNSUBSCRIBING || lease_s < 0)
        return refuse(s, "bad state or lease");
    return s->ops->ws_set(s, callback, state, now, lease_s, asked);
}

int
store_websub_delete(struct store *s, const char *callback)
{
    if (!callback_ok(callback))
        return 0;
    return s->ops->ws_delete(s, callback);
}

int
store_websub_renewals(struct store *s, int64_t now, int64_t hold, struct store_websub *out,
                      size_t max, size_t *n)
{
    *n = 0;
    if (max == 0 || hold <= 0)
        return refuse(s, "renewals: room and a hold are required");
    memset(out, 0, max * sizeof(*out));
    return s->ops->ws_renewals(s, now, hold, out, max, n);
}

int
store_websub_seen(struct store *s, const char *sig, int64_t now, int add)
{
    if (sig == NULL || *sig == '\0' || strlen(sig) > 256)
        return refuse(s, "bad delivery signature");
    return s->ops->ws_seen(s, sig, now, add);
}
