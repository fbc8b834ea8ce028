/* daemon/emit/emit_markdown.c — articles as Markdown posts with Hexo front matter
 * (SPEC §5.4), the layout of the seed post byte for byte. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
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
    /* instruments (SPEC §12): only when there are any, so that a post
     * without them keeps the seed's layout byte for byte */
    if (a->ntickers > 0) {
        fputs("tickers: \n", out);
        for (size_t i = 0; i < a->ntickers; i++) {
            fputs(" - ", out);
            scalar(out, a->tickers[i]);
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

/* The strings of JSON array `arr` as borrowed pointers into *list (a new
 * array, freed by the caller; NULL when none), their number in *n. */
static void
borrow_strings(json_t *arr, char ***list, size_t *n)
{
    size_t m = json_array_size(arr);
    *n = 0;
    *list = m ? calloc(m, sizeof(char *)) : NULL;
    for (size_t i = 0; *list && i < m; i++) {
        const char *c = json_string_value(json_array_get(arr, i));
        if (c != NULL)
            (*list)[(*n)++] = (char *)c;
    }
}

/* A parse_article view of a stored article: strings borrowed, categories
 * and tickers decoded from their JSON arrays (freed by view_free). */
static void
view_of(const struct store_article *s, struct parse_article *a, json_t **cats, json_t **tickers)
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
    *tickers = json_loads(s->tickers_json ? s->tickers_json : "[]", 0, NULL);
    borrow_strings(*cats, &a->categories, &a->ncategories);
    borrow_strings(*tickers, &a->tickers, &a->ntickers);
}

static void
view_free(struct parse_article *a, json_t *cats, json_t *tickers)
{
    free(a->categories);
    free(a->tickers);
    json_decref(cats);
    json_decref(tickers);
}

int
emit_markdown_stored(FILE *out, const struct store_article *s)
{
    struct parse_article a;
    json_t *cats, *tickers;
    view_of(s, &a, &cats, &tickers);
    int rc = emit_markdown(out, &a);
    view_free(&a, cats, tickers);
    return rc;
}

char *
emit_markdown_name_stored(const struct store_article *s, char *buf, size_t size)
{
    struct parse_article a;
    json_t *cats, *tickers;
    view_of(s, &a, &cats, &tickers);
    a.guid = (char *)s->uid; /* stable across sources and updates */
    emit_markdown_name(&a, buf, size);
    view_free(&a, cats, tickers);
    return buf;
}

/* ---- posts in a directory ----
 *
 * A post is named "YYYY-MM-DD-SLUG.md" (emit_markdown_name_stored) unless a
 * file of that name belongs to another article: then "YYYY-MM-DD-SLUG-H.md",
 * H the first 8 hex digits of the article's uuid (of a hash of its uid
 * otherwise). Two articles of one day whose links end alike (a.example/…/
 * story, b.example/…/story) are two posts, and whichever was written first
 * keeps the plain name.
 *
 * Which article a file belongs to is written in the file, not kept anywhere
 * else: no state besides the posts, so a directory copied, restored or
 * checked into git still says it, and `finfeed export` and the daemon agree.
 * The front matter must stay the layout of SPEC §5.4 byte for byte and the
 * HTTP rendering (/articles/ID.md) stays exactly that, so the mark follows
 * the body, as the file's last line:
 *
 *     [//]: # (finfeed urn:uuid:…)
 *
 * a CommonMark link reference definition that nothing refers to: Hexo's
 * renderer (marked), like every CommonMark reader, writes nothing for it,
 * where an HTML comment would go into every published page. The writer
 * appends it after the body, so whatever a body holds, the last line is the
 * writer's own.
 *
 * A post's name is fixed when it is first written: a file of this article
 * under either name is found first (and, when the link has changed since,
 * among the files of the same day), before a free name is taken. A file
 * without the mark is this article's only when its bytes are exactly the
 * post without it (written by an older finfeed, then adopted); any other
 * file is never replaced. */

#define MARK_HEAD "[//]: # (finfeed "
#define POST_PATH 4096

/* dir/name into path (POST_PATH bytes). Returns 0 or -ENAMETOOLONG. */
static int
post_path(char *path, const char *dir, const char *name)
{
    int n = snprintf(path, POST_PATH, "%s/%s", dir, name);
    return n < 0 || n >= POST_PATH ? -ENAMETOOLONG : 0;
}

/* The mark's line (with its '\n') into buf: the uid when it cannot end the
 * parenthesized title early (a urn:uuid always), else a hash of it. */
static void
post_mark(const struct store_article *a, char *buf, size_t size)
{
    const char *uid = a->uid ? a->uid : "";
    size_t n = strlen(uid);
    int plain = n > 0 && n < 128 &&
                strspn(uid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789:._-") == n;
    if (plain)
        snprintf(buf, size, MARK_HEAD "%s)\n", uid);
    else
        snprintf(buf, size, MARK_HEAD "uid-%016" PRIx64 ")\n", name_hash(uid));
}

/* The second name: base without ".md", '-', 8 hex digits of the uid. */
static void
post_alt_name(const struct store_article *a, const char *base, char *buf, size_t size)
{
    const char *uid = a->uid ? a->uid : "";
    char h[9];
    if (strncmp(uid, "urn:uuid:", 9) == 0 && strspn(uid + 9, "0123456789abcdefABCDEF") >= 8) {
        for (int i = 0; i < 8; i++)
            h[i] = (char)tolower((unsigned char)uid[9 + i]);
        h[8] = '\0';
    } else {
        snprintf(h, sizeof(h), "%08" PRIx32, (uint32_t)name_hash(uid));
    }
    snprintf(buf, size, "%.*s-%s.md", (int)(strlen(base) - 3), base, h);
}

enum post_state {
    POST_FREE,  /* no such file */
    POST_SAME,  /* this article's, bytes as they would be written */
    POST_OURS,  /* this article's, to be rewritten */
    POST_OTHER, /* anything else: never touched */
};

/* What the file at path is to the post `doc` (len bytes, mark included;
 * mlen the mark's length). Returns a post_state or -errno. */
static int
post_state(const char *path, const char *doc, size_t len, size_t mlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? POST_FREE : errno == ELOOP ? POST_OTHER : -errno;
    struct stat st;
    int rc = POST_OTHER;
    char *cur = NULL;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)(len + (64 << 20)))
        goto out;
    size_t size = (size_t)st.st_size, got = 0;
    if ((cur = malloc(size + 1)) == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t r = read(fd, cur + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    const char *mark = doc + len - mlen;
    if (got == len && memcmp(cur, doc, len) == 0)
        rc = POST_SAME;
    else if (got > mlen && cur[got - mlen - 1] == '\n' && memcmp(cur + got - mlen, mark, mlen) == 0)
        rc = POST_OURS;
    else if (got == len - mlen - 1 && memcmp(cur, doc, got) == 0)
        rc = POST_OURS; /* unmarked, by an older finfeed: adopted */
out:
    free(cur);
    close(fd);
    return rc;
}

/* A file of the same day "DAY-….md" other than skip[0..2) that carries this
 * article's mark (its link, and so its slug, changed): its name into buf.
 * Returns POST_SAME or POST_OURS when found, POST_FREE when not, -errno. */
static int
post_find(const char *dir, const char *day, const char *const skip[2], const char *doc, size_t len,
          size_t mlen, char *buf, size_t size)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = POST_FREE;
    if (d == NULL)
        return -errno;
    while (rc == POST_FREE && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        char path[POST_PATH];
        if (n < 15 || strncmp(e->d_name, day, 11) != 0 || strcmp(e->d_name + n - 3, ".md") != 0 ||
            strcmp(e->d_name, skip[0]) == 0 || strcmp(e->d_name, skip[1]) == 0 ||
            post_path(path, dir, e->d_name) < 0)
            continue;
        int st = post_state(path, doc, len, mlen);
        if (st == POST_SAME || st == POST_OURS) {
            snprintf(buf, size, "%s", e->d_name);
            rc = st;
        } else if (st < 0 && st != -EACCES) {
            rc = st;
        }
    }
    closedir(d);
    return rc;
}

/* doc into a new file beside path, flushed to disk, then in its place: a
 * reader (a static site build) never sees half a post, a crash leaves the
 * old one. With `claim` the name must still be free: link(2) fails where
 * rename(2) would replace a file another writer has just made. */
static int
post_put(const char *dir, const char *name, const char *doc, size_t len, int claim)
{
    char path[POST_PATH], tmp[POST_PATH], tmpname[400];
    struct timespec ts;
    int fd = -1, rc = post_path(path, dir, name);
    if (rc < 0)
        return rc;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (int i = 0; fd < 0 && i < 100; i++) { /* a name of its own: export and daemon may race */
        snprintf(tmpname, sizeof(tmpname), ".%.300s.%ld-%ld-%d.tmp", name, (long)getpid(),
                 (long)ts.tv_nsec, i);
        if ((rc = post_path(tmp, dir, tmpname)) < 0)
            return rc;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            return -errno;
    }
    if (fd < 0)
        return -EEXIST;
    for (size_t done = 0; done < len;) {
        ssize_t w = write(fd, doc + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            rc = -errno;
            break;
        }
        done += (size_t)w;
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && claim) {
        if (link(tmp, path) != 0)
            rc = errno == EEXIST ? -EEXIST
                 : errno == EPERM || errno == ENOTSUP || errno == ENOSYS || errno == EMLINK
                     ? (rename(tmp, path) != 0 ? -errno : 0) /* no hard links here */
                     : -errno;
    } else if (rc == 0 && rename(tmp, path) != 0) {
        rc = -errno;
    }
    unlink(tmp); /* after link(2), or a failure; ENOENT after rename(2) */
    return rc;
}

int
emit_markdown_write(const char *dir, const struct store_article *a, int *written)
{
    char base[256], alt[300], found[512], mark[200], *doc = NULL;
    size_t len = 0, mlen;
    int rc = 0, st[2] = {POST_FREE, POST_FREE};
    if (written)
        *written = 0;
    FILE *mem = open_memstream(&doc, &len);
    if (mem == NULL)
        return -ENOMEM;
    post_mark(a, mark, sizeof(mark));
    emit_markdown_stored(mem, a);
    fputc('\n', mem); /* ends a paragraph or an HTML block: the mark stands alone */
    fputs(mark, mem);
    if (fclose(mem) != 0) {
        free(doc);
        return -ENOMEM;
    }
    mlen = strlen(mark);
    emit_markdown_name_stored(a, base, sizeof(base));
    post_alt_name(a, base, alt, sizeof(alt));
    const char *names[2] = {base, alt}, *name = NULL;
    for (int i = 0; i < 2 && name == NULL; i++) {
        char path[POST_PATH];
        if ((rc = post_path(path, dir, names[i])) < 0)
            goto out;
        if ((st[i] = post_state(path, doc, len, mlen)) < 0) {
            rc = st[i];
            goto out;
        }
        if (st[i] == POST_SAME)
            goto out; /* up to date */
        if (st[i] == POST_OURS)
            name = names[i];
    }
    if (name == NULL) { /* not under either name: under another of that day? */
        char day[12];
        snprintf(day, sizeof(day), "%.10s-", base);
        rc = post_find(dir, day, names, doc, len, mlen, found, sizeof(found));
        if (rc < 0)
            goto out;
        if (rc == POST_SAME) {
            rc = 0;
            goto out;
        }
        if (rc == POST_OURS)
            name = found;
    }
    if (name != NULL) {
        rc = post_put(dir, name, doc, len, 0);
    } else if (st[0] == POST_FREE) {
        rc = post_put(dir, base, doc, len, 1);
    } else if (st[1] == POST_FREE) {
        rc = post_put(dir, alt, doc, len, 1);
    } else {
        rc = -EEXIST; /* both names are other files: never replaced */
    }
    if (rc == 0 && written)
        *written = 1;
out:
    free(doc);
    return rc;
}
