/* store/store_sched.c — the schedule every node shares (SPEC §10), the face
 * over the backends' ops: arguments checked once here, the SQL in
 * sqlite_sched.c and pg_sched.c; and the host of a feed's URL, the unit of
 * per_host and max_rate. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_int.h"

char *
store_url_host(const char *url)
{
    const char *p, *h, *end;
    if (url == NULL || (p = strstr(url, "://")) == NULL || p == url)
        return NULL;
    for (const char *c = url; c < p; c++)
        if (!isalnum((unsigned char)*c) && *c != '+' && *c != '-' && *c != '.')
            return NULL;
    h = p + 3;
    end = h + strcspn(h, "/?#");
    /* user info ends at the authority's last '@' */
    for (const char *at = h; at < end; at++)
        if (*at == '@')
            h = at + 1;
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        end = close ? close + 1 : end;
    } else {
        const char *colon = memchr(h, ':', (size_t)(end - h));
        end = colon ? colon : end;
    }
    if (end == h)
        return NULL;
    char *host = strndup(h, (size_t)(end - h));
    for (char *c = host; c && *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return host;
}

static int
unsupported(struct store *s, const char *what)
{
    snprintf(s->err, sizeof(s->err), "%s: not on this backend (one node)", what);
    return -ENOTSUP;
}

int
store_now(struct store *s, int64_t *now)
{
    *now = 0;
    return s->ops->now(s, now);
}

int
store_claim(struct store *s, const struct store_claim_opts *o, struct store_claim *out,
            size_t *n)
{
    *n = 0;
    if (o->lease <= 0 || o->limit == 0 || o->per_host < 0 || o->max_rate < 0 ||
        (o->n_ids > 0 && o->feed_ids == NULL) || o->node == NULL) {
        snprintf(s->err, sizeof(s->err), "store_claim: bad options");
        return -EINVAL;
    }
    if (s->in_tx) {
        snprintf(s->err, sizeof(s->err), "store_claim inside a transaction");
        return -EINVAL;
    }
    if (o->feed_ids != NULL && o->n_ids == 0)
        return 0;
    memset(out, 0, o->limit * sizeof(*out));
    return s->ops->claim(s, o, out, n);
}

int
store_lease_extend(struct store *s, int64_t feed_id, int64_t token, int64_t lease)
{
    if (lease <= 0)
        return -EINVAL;
    return s->ops->lease_extend(s, feed_id, token, lease);
}

int
store_fence(struct store *s, int64_t feed_id, int64_t token)
{
    if (!s->in_tx) {
        snprintf(s->err, sizeof(s->err), "store_fence outside a transaction");
        return -EINVAL;
    }
    return s->ops->fence(s, feed_id, token);
}

int
store_feed_complete(struct store *s, int64_t feed_id, int64_t token,
                    const struct store_feed_state *st, int64_t next_in)
{
    return s->ops->feed_complete(s, feed_id, token, st, next_in < 0 ? 0 : next_in);
}

int
store_feed_due_now(struct store *s, const int64_t *feed_ids, size_t n, int64_t *tokens)
{
    if (tokens != NULL)
        memset(tokens, 0, n * sizeof(*tokens));
    return n == 0 ? 0 : s->ops->due_now(s, feed_ids, n, tokens);
}

int
store_feed_leases(struct store *s, const int64_t *feed_ids, size_t n,
                  struct store_feed_lease *out)
{
    memset(out, 0, n * sizeof(*out));
    return n == 0 ? 0 : s->ops->leases(s, feed_ids, n, out);
}

void
store_feed_lease_clear(struct store_feed_lease *l, size_t n)
{
    for (size_t i = 0; l != NULL && i < n; i++) {
        free(l[i].owner);
        free(l[i].next_why);
        l[i].owner = NULL;
        l[i].next_why = NULL;
    }
}

int
store_node_listed(struct store *s, const char *node, const int64_t *feed_ids,
                  const int64_t *intervals, size_t n)
{
    if (s->in_tx || (n > 0 && feed_ids == NULL)) {
        snprintf(s->err, sizeof(s->err), "store_feeds_listed: %s",
                 s->in_tx ? "inside a transaction" : "bad arguments");
        return -EINVAL;
    }
    return s->ops->listed(s, node, feed_ids, intervals, n);
}

int
store_feeds_listed(struct store *s, const int64_t *feed_ids, const int64_t *intervals, size_t n)
{
    return store_node_listed(s, NULL, feed_ids, intervals, n);
}

int
store_feed_names(struct store *s, int (*cb)(void *arg, int64_t id, const char *name), void *arg)
{
    return s->ops->names(s, cb, arg);
}

int
store_listen(struct store *s)
{
    return s->ops->listen ? s->ops->listen(s) : unsupported(s, "store_listen");
}

int
store_notify(struct store *s, const char *what)
{
    if (s->ops->notify == NULL)
        return unsupported(s, "store_notify");
    if (s->in_tx || what == NULL || strlen(what) > 64) {
        snprintf(s->err, sizeof(s->err), "store_notify: %s",
                 s->in_tx ? "inside a transaction" : "bad payload");
        return -EINVAL;
    }
    return s->ops->notify(s, what);
}

int
store_notifications(struct store *s, void (*cb)(void *arg, const char *what), void *arg)
{
    return s->ops->notifications ? s->ops->notifications(s, cb, arg)
                                 : unsupported(s, "store_notifications");
}

int
store_connected(const struct store *s)
{
    return s->ops->connected ? s->ops->connected(s) : 1;
}
