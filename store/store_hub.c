/* store/store_hub.c — the built-in WebSub hub's subscriptions (SPEC §11),
 * the face over the backends' ops: arguments checked once here, the SQL in
 * sqlite_hub.c and pg_hub.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

void
store_hub_clear(struct store_hub_sub *h)
{
    if (h == NULL)
        return;
    free(h->topic);
    free(h->path);
    free(h->callback);
    free(h->host);
    free(h->secret);
    free(h->sent);
    memset(h, 0, sizeof(*h));
}

static int
refuse(struct store *s, const char *why)
{
    snprintf(s->err, sizeof(s->err), "hub: %s", why);
    return -EINVAL;
}

/* A topic and a callback: set, and not absurdly long. */
static int
pair_ok(const char *topic, const char *callback)
{
    return topic != NULL && callback != NULL && *topic != '\0' && *callback != '\0' &&
           strlen(topic) <= 4096 && strlen(callback) <= 4096;
}

int
store_hub_put(struct store *s, const struct store_hub_sub *h, int64_t now)
{
    if (!pair_ok(h->topic, h->callback) || h->path == NULL || h->path[0] != '/' || h->host == NULL)
        return refuse(s, "topic, path, callback and host are required");
    if (h->lease_s <= 0)
        return refuse(s, "a lease is required");
    return s->ops->hub_put(s, h, now);
}

int
store_hub_remove(struct store *s, const char *topic, const char *callback)
{
    if (!pair_ok(topic, callback))
        return 0; /* no such row can exist */
    return s->ops->hub_remove(s, topic, callback);
}

int
store_hub_get(struct store *s, const char *topic, const char *callback, struct store_hub_sub *out)
{
    memset(out, 0, sizeof(*out));
    if (!pair_ok(topic, callback))
        return 0;
    return s->ops->hub_get(s, topic, callback, out);
}

int
store_hub_count(struct store *s, int64_t now, const char *host, const char *topic,
                const char *callback, long *total, long *of_host)
{
    *total = *of_host = 0;
    if (host == NULL || topic == NULL || callback == NULL)
        return refuse(s, "count: host, topic and callback are required");
    return s->ops->hub_count(s, now, host, topic, callback, total, of_host);
}

int
store_hub_mark(struct store *s, int64_t now)
{
    return s->ops->hub_mark(s, now);
}

int
store_hub_claim(struct store *s, int64_t now, int64_t hold, struct store_hub_sub *out, size_t max,
                size_t *n, struct store_hub_pass *p)
{
    struct store_hub_pass none;
    *n = 0;
    if (p == NULL)
        p = &none;
    memset(p, 0, sizeof(*p));
    if (max == 0 || hold <= 0)
        return refuse(s, "claim: room and a hold are required");
    memset(out, 0, max * sizeof(*out));
    return s->ops->hub_claim(s, now, hold, out, max, n, p);
}

int
store_hub_done(struct store *s, const struct store_hub_sub *d, int drop)
{
    if (d->id <= 0)
        return refuse(s, "done: no subscription");
    if (d->fails < 0 || d->tries < 0 || d->next_try < 0)
        return refuse(s, "done: bad delivery state");
    return s->ops->hub_done(s, d, drop);
}
