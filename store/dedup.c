/* store/dedup.c — the keys of SPEC §7's dedup rules: canonical links (plain
 * ones read here, the rest through libcurl's URL API), normalized titles, and
 * character 4-gram sets of bodies with their MinHash signature cut into LSH
 * bands, plus the exact Jaccard check; an article's keys made ahead, on a
 * thread other than the writer's. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "store/store_int.h"

/* ---- rule 2: canonical links ---- */

static char *curl_canonical_link(char *const *t, size_t nt, const char *url);

/* Whether the n bytes at name are one of the patterns t[0..nt). */
static int
tracking_match(char *const *t, size_t nt, const char *name, size_t n)
{
    for (size_t i = 0; i < nt; i++) {
        const char *p = t[i];
        size_t k = strlen(p);
        if (k > 0 && p[k - 1] == '*') {
            if (n >= k - 1 && strncasecmp(name, p, k - 1) == 0)
                return 1;
        } else if (n == k && strncasecmp(name, p, k) == 0) {
            return 1;
        }
    }
    return 0;
}

int
store_tracking_param(const struct store *s, const char *name, size_t n)
{
    return tracking_match(s->tracking, s->ntracking, name, n);
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The query of a URL without tracking parameters, the rest sorted (byte
 * order, so "a=1&b=2" and "b=2&a=1" compare equal): a new string, "" when
 * nothing is left, NULL when out of memory. */
static char *
clean_query(char *const *tp, size_t nt, char *query)
{
    size_t n = 0, len = 0;
    char **params = malloc((strlen(query) / 2 + 2) * sizeof(*params)), *save = NULL, *q, *w;
    if (params == NULL)
        return NULL;
    for (char *t = strtok_r(query, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        if (tracking_match(tp, nt, t, strcspn(t, "=")))
            continue;
        params[n++] = t;
        len += strlen(t) + 1;
    }
    qsort(params, n, sizeof(*params), cmp_str);
    if ((q = w = malloc(len + 1)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            size_t k = strlen(params[i]);
            if (i > 0)
                *w++ = '&';
            memcpy(w, params[i], k);
            w += k;
        }
        *w = '\0';
    }
    free(params);
    return q;
}

/* A character libcurl's URL API keeps as it is in a path, query or
 * fragment (RFC 3986's unreserved and sub-delims, ':', '@', '/'): no '%'
 * (escapes), no space or control character (refused), nothing else. */
static int
plain_char(unsigned char c)
{
    return isalnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL);
}

/* Whether the path segment at p (just after a '/') is "." or "..", or
 * empty before another '/': libcurl removes dot segments. */
static int
odd_segment(const char *p)
{
    size_t n = strcspn(p, "/?#");
    return p[0] == '/' || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.');
}

/* The canonical link of a plain URL the way libcurl's URL API makes it,
 * without libcurl (a fifth of the storing thread's dedup keys went into
 * its parsing and reassembling): 1 with *out (a new string; NULL when out
 * of memory), or 0 when the URL is not plain and libcurl is to decide.
 * Plain: "http://" or "https://" (any case), a host name of ASCII letters,
 * digits, '-' and '.' (not starting or ending with '.' or '-', no "..",
 * its last label not starting with a digit: libcurl rewrites IPv4 forms),
 * no port and no user, then a path, query and fragment of plain_char only,
 * without "." or ".." segments or "//" (libcurl removes dot segments). Of
 * such a URL libcurl changes nothing but what canonical_link changes:
 * https, the host's case, the fragment gone, the query cleaned; an empty
 * path becomes "/". test_canonical_link and a run over the 21,000 links of
 * the bench feeds compare the two. */
static int
plain_link(char *const *t, size_t nt, const char *url, char **out)
{
    const char *p, *host, *path, *query = NULL;
    size_t hl, pl, ql = 0;
    *out = NULL;
    if (strncasecmp(url, "https://", 8) == 0)
        p = url + 8;
    else if (strncasecmp(url, "http://", 7) == 0)
        p = url + 7;
    else
        return 0;
    host = p;
    while (isalnum((unsigned char)*p) || *p == '-' || *p == '.')
        p++;
    hl = (size_t)(p - host);
    if (hl == 0 || hl > 253 || !isalnum((unsigned char)host[0]) ||
        !isalnum((unsigned char)host[hl - 1]))
        return 0;
    for (size_t i = 0; i + 1 < hl; i++)
        if (host[i] == '.' && host[i + 1] == '.')
            return 0;
    const char *last = host + hl;
    while (last > host && last[-1] != '.')
        last--;
    if (isdigit((unsigned char)*last))
        return 0;
    if (*p != '/' && *p != '?' && *p != '#' && *p != '\0')
        return 0; /* a port, a user, anything else: libcurl's */
    path = p;
    for (; *p != '?' && *p != '#' && *p != '\0'; p++) {
        if (!plain_char((unsigned char)*p))
            return 0;
        if (*p == '/' && odd_segment(p + 1))
            return 0;
    }
    pl = (size_t)(p - path);
    if (*p == '?') {
        query = ++p;
        for (; *p != '#' && *p != '\0'; p++)
            if (!plain_char((unsigned char)*p) && *p != '?')
                return 0;
        ql = (size_t)(p - query);
    }
    if (*p == '#')
        for (p++; *p != '\0'; p++)
            if (!plain_char((unsigned char)*p) && *p != '?')
                return 0;
    char *q = NULL;
    if (query != NULL) {
        char *raw = strndup(query, ql);
        q = raw ? clean_query(t, nt, raw) : NULL;
        free(raw);
        if (q == NULL)
            return 1; /* out of memory */
    }
    size_t n = 8 + hl + (pl ? pl : 1) + (q && *q ? strlen(q) + 1 : 0) + 1;
    char *o = malloc(n);
    if (o != NULL) {
        memcpy(o, "https://", 8);
        for (size_t i = 0; i < hl; i++)
            o[8 + i] = (char)tolower((unsigned char)host[i]);
        snprintf(o + 8 + hl, n - 8 - hl, "%.*s%s%s", (int)(pl ? pl : 1), pl ? path : "/",
                 q && *q ? "?" : "", q && *q ? q : "");
    }
    free(q);
    *out = o;
    return 1;
}

/* store_canonical_link with the tracking parameters t[0..nt). */
static char *
canonical_link(char *const *t, size_t nt, const char *url)
{
    char *fast;
    if (url != NULL && plain_link(t, nt, url, &fast))
        return fast;
    return curl_canonical_link(t, nt, url);
}

/* canonical_link through libcurl's URL API, for any URL. */
static char *
curl_canonical_link(char *const *t, size_t nt, const char *url)
{
    CURLU *h = url ? curl_url() : NULL;
    char *scheme = NULL, *host = NULL, *query = NULL, *port = NULL, *out = NULL, *q = NULL;
    int https;
    if (h == NULL || curl_url_set(h, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
        goto done;
    if (curl_url_get(h, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
        goto done;
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0)
        goto done;
    https = strcasecmp(scheme, "https") == 0;
    /* the default port of the scheme given, then http and https are one */
    if (curl_url_get(h, CURLUPART_PORT, &port, 0) == CURLUE_OK &&
        strcmp(port, https ? "443" : "80") == 0 &&
        curl_url_set(h, CURLUPART_PORT, NULL, 0) != CURLUE_OK)
        goto done;
    if (curl_url_set(h, CURLUPART_SCHEME, "https", 0) != CURLUE_OK)
        goto done;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) != CURLUE_OK || *host == '\0')
        goto done;
    for (char *p = host; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    size_t n = strlen(host);
    if (n > 1 && host[n - 1] == '.') /* "example.com." is "example.com" */
        host[n - 1] = '\0';
    if (curl_url_set(h, CURLUPART_HOST, host, 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
        curl_url_set(h, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK)
        goto done;
    if (curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK) {
        if ((q = clean_query(t, nt, query)) == NULL ||
            curl_url_set(h, CURLUPART_QUERY, *q ? q : NULL, 0) != CURLUE_OK)
            goto done;
    }
    if (curl_url_get(h, CURLUPART_URL, &out, 0) != CURLUE_OK)
        out = NULL;
done:
    if (out != NULL) { /* hand back malloc'd memory, not curl's */
        char *copy = strdup(out);
        curl_free(out);
        out = copy;
    }
    free(q);
    curl_free(scheme);
    curl_free(host);
    curl_free(query);
    curl_free(port);
    curl_url_cleanup(h);
    return out;
}

char *
store_canonical_link(struct store *s, const char *url)
{
    return canonical_link(s->tracking, s->ntracking, url);
}

int
store_link_key_usable(const char *canon)
{
    const char *p = strstr(canon, "://");
    if (p == NULL)
        return 0;
    p = strchr(p + 3, '/');
    return p != NULL && p[1] != '\0';
}

/* ---- UTF-8 code points ---- */

/* Decode one code point at *p, advancing it; invalid bytes give U+FFFD. */
static unsigned long
next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned long c = s[0];
    int n = c < 0x80 ? 0 : c < 0xC0 ? -1 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : c < 0xF8 ? 3 : -1;
    if (n < 0) {
        *p = s + 1;
        return 0xFFFD;
    }
    if (n > 0)
        c &= 0x3F >> n;
    for (int i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + i;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *p = s + n + 1;
    return c;
}

static void
put_cp(char **w, unsigned long c)
{
    unsigned char *o = (unsigned char *)*w;
    if (c < 0x80) {
        *o++ = (unsigned char)c;
    } else if (c < 0x800) {
        *o++ = (unsigned char)(0xC0 | (c >> 6));
        *o++ = (unsigned char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *o++ = (unsigned char)(0xE0 | (c >> 12));
        *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | (c >> 18));
        *o++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
        *o++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (c & 0x3F));
    }
    *w = (char *)o;
}

/* Punctuation and spaces, ASCII and CJK (after full-width folding). */
static int
is_punct_or_space(unsigned long c)
{
    if (c < 0x80)
        return !isalnum((int)c);
    return c == 0xA0 || (c >= 0x2000 && c <= 0x206F) || /* general punctuation, spaces */
           (c >= 0x3000 && c <= 0x303F) ||              /* CJK symbols and punctuation */
           (c >= 0xFE30 && c <= 0xFE4F) ||              /* CJK compatibility forms */
           (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
           (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) || c == 0x00B7 ||
           c == 0x00AB || c == 0x00BB || c == 0xFFFD;
}

char *
store_title_key(const char *title)
{
    size_t n = title ? strlen(title) : 0;
    char *out = malloc(n + 1), *w = out;
    if (out == NULL)
        return NULL;
    const unsigned char *p = (const unsigned char *)(title ? title : "");
    while (*p) {
        unsigned long c = next_cp(&p);
        if (c >= 0xFF01 && c <= 0xFF5E) /* full-width ASCII → ASCII */
            c -= 0xFEE0;
        if (is_punct_or_space(c))
            continue;
        if (c < 0x80)
            c = (unsigned long)tolower((int)c);
        put_cp(&w, c);
    }
    *w = '\0';
    return out;
}

/* Rule 3 compares titles of at least 10 letters and digits, a CJK (or any
 * non-ASCII) character counting two: "Markets wrap" and "长春疫情通报" are
 * compared, the recurring "快讯" or "Update" never are. */
#define MIN_TITLE_WEIGHT 10

int
store_title_key_usable(const char *key)
{
    int weight = 0;
    for (const unsigned char *p = (const unsigned char *)key; *p && weight < MIN_TITLE_WEIGHT; p++)
        if (*p < 0x80)
            weight++;
        else if (*p >= 0xC0) /* a lead byte: one non-ASCII character */
            weight += 2;
    return weight >= MIN_TITLE_WEIGHT;
}

/* ---- rule 4: 4-gram sets, MinHash, LSH bands ---- */

/* v[0..n) sorted: a radix sort, a byte a pass, in tmp[0..n) and back;
 * under 64 an insertion sort (tmp unused, may be NULL). qsort's merge sort
 * through a comparison call was 4.6% of parsing a feed, for the shingles. */
static void
sort_u64(uint64_t *v, uint64_t *tmp, size_t n)
{
    if (n < 64) { /* a title's few: insertion, not eight passes of 256 */
        for (size_t i = 1; i < n; i++) {
            uint64_t x = v[i];
            size_t j = i;
            for (; j > 0 && v[j - 1] > x; j--)
                v[j] = v[j - 1];
            v[j] = x;
        }
        return;
    }
    uint64_t *from = v, *to = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++)
            count[((from[i] >> shift) & 0xFF) + 1]++;
        if (count[((from[0] >> shift) & 0xFF) + 1] == n)
            continue; /* one value of this byte: already in order */
        for (int b = 0; b < 256; b++)
            count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++)
            to[count[(from[i] >> shift) & 0xFF]++] = from[i];
        uint64_t *t = from;
        from = to;
        to = t;
    }
    if (from != v)
        memcpy(v, from, n * sizeof(*v));
}

int
store_shingles(const char *text, uint64_t **out, size_t *n, size_t *chars)
{
    size_t len = strlen(text), cap = len + 1, k = 0, nc = 0;
    unsigned long win[4] = {0};
    uint64_t *set = malloc(cap * sizeof(*set));
    if (set == NULL)
        return -ENOMEM;
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        unsigned long c = next_cp(&p);
        if (c <= 0x20 || c == 0xA0 || c == 0x3000) /* white space does not count */
            continue;
        win[0] = win[1];
        win[1] = win[2];
        win[2] = win[3];
        win[3] = c;
        if (++nc >= 4)
            set[k++] = store_mix64(((uint64_t)win[0] << 42) ^ ((uint64_t)win[1] << 28) ^
                                   ((uint64_t)win[2] << 14) ^ (uint64_t)win[3] ^
                                   ((uint64_t)win[0] >> 22) * 0x9E3779B97F4A7C15ULL);
    }
    /* room for the radix sort to work in (64 shingles or more) */
    uint64_t *tmp = NULL;
    if (k >= 64 && (tmp = malloc(k * sizeof(*tmp))) == NULL) {
        free(set);
        return -ENOMEM;
    }
    sort_u64(set, tmp, k);
    free(tmp);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || set[u - 1] != set[i])
            set[u++] = set[i];
    *out = set;
    *n = u;
    *chars = nc;
    return 0;
}

double
store_jaccard(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
    size_t i = 0, j = 0, both = 0;
    if (na == 0 && nb == 0)
        return 1.0;
    while (i < na && j < nb) {
        if (a[i] == b[j])
            both++, i++, j++;
        else if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return (double)both / (double)(na + nb - both);
}

void
store_bands(const uint64_t *set, size_t n, uint64_t bands[STORE_BANDS])
{
    uint64_t sig[STORE_BANDS * STORE_ROWS];
    for (size_t h = 0; h < STORE_BANDS * STORE_ROWS; h++) {
        /* h-th hash: an odd multiplier and an offset per function */
        uint64_t a = store_mix64(h * 2 + 1) | 1, b = store_mix64(h * 2 + 2), m = UINT64_MAX;
        for (size_t i = 0; i < n; i++) {
            uint64_t v = set[i] * a + b;
            if (v < m)
                m = v;
        }
        sig[h] = m;
    }
    for (size_t band = 0; band < STORE_BANDS; band++) {
        uint64_t x = store_mix64(band + 0x5bd1e995);
        for (size_t r = 0; r < STORE_ROWS; r++)
            x = store_mix64(x ^ sig[band * STORE_ROWS + r]);
        bands[band] = x;
    }
}

double
store_similarity(const char *a, const char *b)
{
    uint64_t *sa = NULL, *sb = NULL;
    size_t na, nb, ca, cb;
    double j = 0;
    if (store_shingles(a, &sa, &na, &ca) == 0 && store_shingles(b, &sb, &nb, &cb) == 0)
        j = store_jaccard(sa, na, sb, nb);
    free(sa);
    free(sb);
    return j;
}

/* ---- keys made ahead (store_keymaker, store_prekeys) ---- */

struct store_keymaker {
    char **tracking; /* a copy of the store's tracking parameters */
    size_t ntracking;
    uint64_t gen;    /* … and their generation (tracking_gen) */
};

int
store_keymaker_new(const struct store *s, struct store_keymaker **out)
{
    struct store_keymaker *m = calloc(1, sizeof(*m));
    *out = NULL;
    if (m == NULL ||
        (s->ntracking > 0 && (m->tracking = calloc(s->ntracking, sizeof(char *))) == NULL))
        goto nomem;
    for (; m->ntracking < s->ntracking; m->ntracking++)
        if ((m->tracking[m->ntracking] = strdup(s->tracking[m->ntracking])) == NULL)
            goto nomem;
    m->gen = s->tracking_gen;
    *out = m;
    return 0;
nomem:
    store_keymaker_free(m);
    return -ENOMEM;
}

void
store_keymaker_free(struct store_keymaker *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->ntracking; i++)
        free(m->tracking[i]);
    free(m->tracking);
    free(m);
}

char *
store_categories_json(const struct parse_article *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr != NULL && i < a->ncategories; i++)
        if (json_array_append_new(arr, json_string(a->categories[i])) < 0) {
            json_decref(arr);
            return NULL;
        }
    char *s = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return s;
}

int
store_keys_fill(char *const *tracking, size_t ntracking, const struct parse_article *a,
                struct store_prekeys *k)
{
    memset(k, 0, sizeof(*k));
    /* the body's plain text: the one parse made with it (a copy), else
     * made here */
    k->text = a->text != NULL ? strdup(a->text) : parse_html_text(a->body ? a->body : "");
    if (k->text == NULL)
        goto nomem;
    if ((k->link = canonical_link(tracking, ntracking, a->link)) != NULL &&
        !store_link_key_usable(k->link)) {
        free(k->link);
        k->link = NULL;
    }
    if ((k->title = store_title_key(a->title)) == NULL)
        goto nomem;
    if (!store_title_key_usable(k->title)) {
        free(k->title);
        k->title = NULL;
    }
    if (store_shingles(k->text, &k->set, &k->nset, &k->chars) < 0)
        goto nomem;
    if (k->chars >= STORE_MIN_BODY_CHARS) {
        store_bands(k->set, k->nset, k->bands);
        k->banded = 1;
    }
    k->full = 1;
    return 0;
nomem:
    store_prekeys_clear(k);
    return -ENOMEM;
}

void
store_prekeys_clear(struct store_prekeys *k)
{
    free(k->text);
    free(k->cats);
    free(k->link);
    free(k->title);
    free(k->set);
    memset(k, 0, sizeof(*k));
}

int
store_prekeys_make(const struct store_keymaker *m, const struct parse_article *a,
                   struct store_prekeys **out)
{
    struct store_prekeys *k = malloc(sizeof(*k));
    *out = NULL;
    if (k == NULL)
        return -ENOMEM;
    if (store_keys_fill(m->tracking, m->ntracking, a, k) < 0) {
        free(k);
        return -ENOMEM;
    }
    /* the content hash and the row's categories too, off the writer (the
     * writer makes the categories only for an article it stores or
     * updates) */
    k->hash = store_content_hash(a->title, a->body);
    k->hashed = 1;
    if ((k->cats = store_categories_json(a)) == NULL) {
        store_prekeys_free(k);
        return -ENOMEM;
    }
    k->gen = m->gen;
    *out = k;
    return 0;
}

uint64_t
store_hash64(uint64_t h, const char *p)
{
    for (; p && *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return (h ^ 0xff) * 0x100000001b3ULL;
}

uint64_t
store_content_hash(const char *title, const char *body)
{
    return store_hash64(store_hash64(0xcbf29ce484222325ULL, title), body);
}

void
store_prekeys_free(struct store_prekeys *k)
{
    if (k == NULL)
        return;
    store_prekeys_clear(k);
    free(k);
}
