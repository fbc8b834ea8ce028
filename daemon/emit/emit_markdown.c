/* daemon/emit/emit_markdown.c — articles as Markdown posts with Hexo front matter
 * (SPEC §5.4), the layout of the seed post byte for byte. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "daemon/emit/emit.h"
#include "daemon/emit/emit_text.h"
#include "store/store.h"

/* What a code point becomes in a front-matter scalar: YAML 1.1 (PyYAML) reads
 * NEL, U+2028 and U+2029 as line breaks, and every YAML rejects control
 * characters even inside quotes (YAML 1.2 §5.1). */
enum yaml_char { YAML_KEEP, YAML_SPACE, YAML_DROP };

static enum yaml_char
yaml_char(uint32_t c)
{
    if (c == '\n' || c == '\r' || c == '\t' || c == 0x85 || c == 0x2028 || c == 0x2029)
        return YAML_SPACE;
    if (c < 0x20 || (c >= 0x7F && c <= 0x9F) || c == 0xFEFF || c == 0xFFFE || c == 0xFFFF)
        return YAML_DROP;
    return YAML_KEEP;
}

/* A YAML single-quoted scalar: ' doubled; line breaks cannot occur (titles
 * and URLs are collapsed to one line), but are written as spaces if they do;
 * control characters are left out and invalid UTF-8 becomes U+FFFD, so the
 * front matter always reads back. */
static void
quoted(FILE *out, const char *s)
{
    const char *p = s, *end = s + strlen(s);
    fputc('\'', out);
    while (p < end) {
        uint32_t c;
        size_t skip, n = emit_utf8_seq(p, (size_t)(end - p), &c, &skip);
        if (n == 0) {
            fputs(EMIT_REPLACEMENT, out);
            p += skip;
            continue;
        }
        if (c == '\'')
            fputs("\'\'", out);
        else if (yaml_char(c) == YAML_SPACE)
            fputc(' ', out);
        else if (yaml_char(c) == YAML_KEEP)
            fwrite(p, 1, n, out);
        p += n;
    }
    fputc('\'', out);
}

/* A plain scalar when YAML reads it back as the same string (as the seed
 * writes `author: 新浪财经`), else single-quoted. */
static void
scalar(FILE *out, const char *s)
{
    size_t len = strlen(s);
    int plain = len > 0 && strchr("-?:,[]{}#&*!|>'\"%@`=<.+~ ", *s) == NULL &&
                !isdigit((unsigned char)*s) && strstr(s, ": ") == NULL && strstr(s, " #") == NULL &&
                s[len - 1] != ' ' && s[len - 1] != ':';
    /* YAML 1.1 booleans and null (js-yaml and PyYAML read "yes" as true) */
    static const char *const words[] = {"true", "false", "yes", "no",  "y",
                                        "n",    "on",    "off", "null"};
    for (size_t i = 0; plain && i < sizeof(words) / sizeof(words[0]); i++)
        if (strcasecmp(s, words[i]) == 0)
            plain = 0;
    for (const char *p = s; plain && p < s + len;) {
        uint32_t c;
        size_t skip, n = emit_utf8_seq(p, (size_t)(s + len - p), &c, &skip);
        plain = n > 0 && yaml_char(c) == YAML_KEEP;
        p += n;
    }
    if (plain)
        fputs(s, out);
    else
        quoted(out, s);
}

int
emit_markdown(FILE *out, const struct parse_article *a)
{
    char date[EMIT_RFC1123_LEN + 1];
    emit_rfc1123(a->date, date, sizeof(date));

    fputs("---\ntitle: ", out);
    quoted(out, a->title);
    fputc('\n', out);
    if (a->ncategories > 0) {
        fputs("categories: \n", out);
        for (size_t i = 0; i < a->ncategories; i++) {
            fputs(" - ", out);
            scalar(out, a->categories[i]);
            fputc('\n', out);
        }
    }
    if (a->headimg != NULL && *a->headimg) {
        fputs("headimg: ", out);
        quoted(out, a->headimg);
        fputc('\n', out);
    }
    if (a->author != NULL && *a->author) {
        fputs("author: ", out);
        scalar(out, a->author);
        fputc('\n', out);
    }
    fprintf(out, "comments: %s\n", a->comments ? "true" : "false");
    fprintf(out, "date: %s\n", date);
    if (a->thumbnail != NULL && *a->thumbnail) {
        fputs("thumbnail: ", out);
        quoted(out, a->thumbnail);
        fputc('\n', out);
    }
    fputs("---\n\n", out);
    for (const char *p = a->body; *p; p++) {
        if (*p == '{')
            fputs("&#123;", out);
        else if (*p == '}')
            fputs("&#125;", out);
        else
            fputc(*p, out);
    }
    fputc('\n', out);
    return ferror(out) ? -EIO : 0;
}

static uint64_t
name_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* The last segment of the path of `link` (from *seg to *end), without its
 * extension; for a directory index ("…/fed-hike/index.html") the directory.
 * *seg is NULL when the link has no path. */
static void
last_segment(const char *link, const char **seg, const char **end)
{
    *seg = *end = NULL;
    const char *path = link ? strstr(link, "://") : NULL;
    path = path ? strchr(path + 3, '/') : NULL;
    if (path == NULL)
        return;
    const char *stop = path + strcspn(path, "?#");
    for (int pass = 0; pass < 2; pass++) {
        while (stop > path && stop[-1] == '/')
            stop--;
        const char *s = stop;
        while (s > path && s[-1] != '/')
            s--;
        const char *dot = NULL;
        for (const char *p = s; p < stop; p++)
            if (*p == '.')
                dot = p;
        const char *e = dot != NULL && dot > s ? dot : stop;
        *seg = s;
        *end = e;
        if (!((e - s == 5 && strncasecmp(s, "index", 5) == 0) ||
              (e - s == 7 && strncasecmp(s, "default", 7) == 0)))
            return;
        stop = s; /* an index page: the directory names the article */
    }
}

char *
emit_markdown_name(const struct parse_article *a, char *buf, size_t size)
{
    char day[EMIT_RFC3339_LEN + 1], slug[64];
    size_t n = 0;
    emit_rfc3339(a->date, day, sizeof(day));
    day[10] = '\0'; /* YYYY-MM-DD */
    /* The slug comes from the last path segment of the link (publishers'
     * slugs are ASCII even for Chinese headlines, and links do not change
     * when a title is corrected), without its extension; only [a-z0-9-], so
     * no '/' or ".." can reach the file name. */
    const char *seg, *end;
    last_segment(a->link, &seg, &end);
    for (const char *p = seg; p && p < end && n < 48; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 0x80)
            slug[n++] = (char)tolower(c);
        else if (n > 0 && slug[n - 1] != '-')
            slug[n++] = '-';
    }
    while (n > 0 && slug[n - 1] == '-')
        n--;
    slug[n] = '\0';
    int query = a->link != NULL && a->link[strcspn(a->link, "?#")] == '?';
    if (n >= 4 && query) {
        /* "news.php?id=1": the segment names a script, the query the
         * article; a hash of the link keeps two such articles apart */
        snprintf(buf, size, "%s-%s-%08" PRIx32 ".md", day, slug, (uint32_t)name_hash(a->link));
    } else if (n >= 4) {
        snprintf(buf, size, "%s-%s.md", day, slug);
    } else { /* no usable link: a hash of the guid */
        snprintf(buf, size, "%s-%016" PRIx64 ".md", day, name_hash(a->guid));
    }
    return buf;
}

/* A parse_article view of a stored article: strings borrowed, categories
 * decoded from their JSON array (freed by view_free). */
static void
view_of(const struct store_article *s, struct parse_article *a, json_t **cats)
{
    memset(a, 0, sizeof(*a));
    a->title = (char *)(s->title ? s->title : "");
    a->link = (char *)s->link;
    a->guid = (char *)(s->guid ? s->guid : s->uid);
    a->author = (char *)s->author;
    a->date = s->date;
    a->headimg = (char *)s->headimg;
    a->thumbnail = (char *)s->thumbnail;
    a->comments = s->comments;
    a->summary = (char *)s->summary;
    a->body = (char *)(s->body ? s->body : "");
    a->source = (char *)s->feed;
    *cats = json_loads(s->categories_json ? s->categories_json : "[]", 0, NULL);
    size_t n = json_array_size(*cats);
    a->categories = n ? calloc(n, sizeof(char *)) : NULL;
    for (size_t i = 0; a->categories && i < n; i++) {
        const char *c = json_string_value(json_array_get(*cats, i));
        if (c != NULL)
            a->categories[a->ncategories++] = (char *)c;
    }
}

int
emit_markdown_stored(FILE *out, const struct store_article *s)
{
    struct parse_article a;
    json_t *cats;
    view_of(s, &a, &cats);
    int rc = emit_markdown(out, &a);
    free(a.categories);
    json_decref(cats);
    return rc;
}

char *
emit_markdown_name_stored(const struct store_article *s, char *buf, size_t size)
{
    struct parse_article a;
    json_t *cats;
    view_of(s, &a, &cats);
    a.guid = (char *)s->uid; /* stable across sources and updates */
    emit_markdown_name(&a, buf, size);
    free(a.categories);
    json_decref(cats);
    return buf;
}

int
emit_markdown_write(const char *dir, const struct store_article *a, int *written)
{
    char name[256], path[4096], tmp[4200], *doc = NULL;
    size_t len = 0;
    int rc = 0;
    if (written)
        *written = 0;
    FILE *mem = open_memstream(&doc, &len);
    if (mem == NULL)
        return -ENOMEM;
    emit_markdown_stored(mem, a);
    if (fclose(mem) != 0) {
        free(doc);
        return -ENOMEM;
    }
    emit_markdown_name_stored(a, name, sizeof(name));
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *old = fopen(path, "rb");
    if (old != NULL) {
        char *cur = malloc(len + 1);
        size_t n = cur ? fread(cur, 1, len + 1, old) : 0;
        int same = cur != NULL && n == len && memcmp(cur, doc, len) == 0;
        free(cur);
        fclose(old);
        if (same)
            goto out;
    }
    /* write beside, then rename: a reader (a static site build) never sees
     * half a post */
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
    FILE *fp = fopen(tmp, "wb");
    if (fp == NULL) {
        rc = -errno;
        goto out;
    }
    int ok = fwrite(doc, 1, len, fp) == len;
    if (fclose(fp) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        rc = -(errno ? errno : EIO);
        unlink(tmp);
        goto out;
    }
    if (written)
        *written = 1;
out:
    free(doc);
    return rc;
}
