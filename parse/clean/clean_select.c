/* parse/clean/clean_select.c — the per-feed `remove` selectors of SPEC §4: parsing
 * "tag, .class, #id, tag.class, [attr], [attr=value]" lists (compound forms
 * such as "div#x.y[z]" too; combinators are refused) and matching them against
 * an element before its attributes are stripped. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/clean/clean_int.h"

struct sel_parser {
    const char *s;   /* whole list, for messages */
    const char *p;   /* cursor */
    const char *sel; /* start of the selector being read */
    char *err;
    size_t errsize;
};

static int
sel_fail(struct sel_parser *sp, const char *why)
{
    size_t n = strcspn(sp->sel, ",");
    while (n > 0 && (sp->sel[n - 1] == ' ' || sp->sel[n - 1] == '\t'))
        n--;
    if (sp->err != NULL && sp->errsize > 0)
        snprintf(sp->err, sp->errsize, "remove: bad selector \"%.*s\": %s", n > 80 ? 80 : (int)n,
                 sp->sel, why);
    return -EINVAL;
}

static int
sel_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* CSS identifier characters (escapes are not supported); bytes of non-ASCII
 * UTF-8 count as identifier characters, as in CSS. */
static int
sel_is_ident(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c >= 0x80;
}

/* Read an identifier at sp->p into a new string (lowered when `lower`). */
static int
sel_ident(struct sel_parser *sp, int lower, char **out, const char *what)
{
    const char *start = sp->p;
    while (sel_is_ident((unsigned char)*sp->p))
        sp->p++;
    if (sp->p == start) {
        char why[80];
        snprintf(why, sizeof why, "%s expected", what);
        return sel_fail(sp, why);
    }
    char *s = strndup(start, (size_t)(sp->p - start));
    if (s == NULL)
        return -ENOMEM;
    if (lower)
        for (char *q = s; *q; q++)
            if (*q >= 'A' && *q <= 'Z')
                *q = (char)(*q - 'A' + 'a');
    *out = s;
    return 0;
}

static int
sel_add_part(struct clean_sel *sel, enum clean_sel_kind kind, char *name, char *value)
{
    struct clean_sel_part *parts = realloc(sel->parts, (sel->nparts + 1) * sizeof *parts);
    if (parts == NULL) {
        free(name);
        free(value);
        return -ENOMEM;
    }
    sel->parts = parts;
    parts[sel->nparts++] = (struct clean_sel_part){kind, name, value};
    return 0;
}

/* "[" name [ "=" value ] "]" with value an identifier or a quoted string. */
static int
sel_attr(struct sel_parser *sp, struct clean_sel *sel)
{
    char *name = NULL, *value = NULL;
    int rc;

    sp->p++; /* '[' */
    while (sel_is_space(*sp->p))
        sp->p++;
    if ((rc = sel_ident(sp, 1, &name, "attribute name")) < 0)
        return rc;
    while (sel_is_space(*sp->p))
        sp->p++;
    if (*sp->p == '=') {
        sp->p++;
        while (sel_is_space(*sp->p))
            sp->p++;
        if (*sp->p == '"' || *sp->p == '\'') {
            char q = *sp->p++;
            const char *end = strchr(sp->p, q);
            if (end == NULL) {
                rc = sel_fail(sp, "unterminated quoted value");
                goto fail;
            }
            value = strndup(sp->p, (size_t)(end - sp->p));
            if (value == NULL) {
                rc = -ENOMEM;
                goto fail;
            }
            sp->p = end + 1;
        } else if ((rc = sel_ident(sp, 0, &value, "attribute value")) < 0) {
            goto fail;
        }
        while (sel_is_space(*sp->p))
            sp->p++;
    }
    if (*sp->p != ']') {
        rc = sel_fail(sp, *sp->p ? "']' expected" : "unterminated '['");
        goto fail;
    }
    sp->p++;
    return sel_add_part(sel, value ? SEL_ATTR_EQ : SEL_ATTR, name, value);
fail:
    free(value);
    free(name);
    return rc;
}

/* One compound selector, up to the next ',' or the end. */
static int
sel_one(struct sel_parser *sp, struct clean_sel *sel)
{
    int rc;

    while (sel_is_space(*sp->p))
        sp->p++;
    sp->sel = sp->p;
    if (*sp->p == '*') {
        sp->p++;
    } else if (sel_is_ident((unsigned char)*sp->p)) {
        if ((rc = sel_ident(sp, 1, &sel->tag, "tag name")) < 0)
            return rc;
    }
    for (;;) {
        char *name = NULL;
        switch (*sp->p) {
        case '.':
        case '#': {
            int cls = *sp->p++ == '.';
            rc = sel_ident(sp, 0, &name, cls ? "class name after '.'" : "id after '#'");
            if (rc < 0)
                return rc;
            rc = sel_add_part(sel, cls ? SEL_CLASS : SEL_ID, name, NULL);
            break;
        }
        case '[':
            rc = sel_attr(sp, sel);
            break;
        default:
            goto end;
        }
        if (rc < 0)
            return rc;
    }
end:
    while (sel_is_space(*sp->p))
        sp->p++;
    if (*sp->p != ',' && *sp->p != '\0')
        return sel_fail(sp, "only tag, .class, #id and [attr=value] forms are supported");
    if (sp->p == sp->sel)
        return sel_fail(sp, "empty selector");
    return 0;
}

int
clean_sels_parse(const char *list, struct clean_sel **out, size_t *nout, char *err, size_t errsize)
{
    struct sel_parser sp = {list, list, list, err, errsize};
    struct clean_sel *sels = NULL;
    size_t n = 0;
    int rc = 0;

    *out = NULL;
    *nout = 0;
    if (list == NULL)
        return 0;
    while (sel_is_space(*sp.p))
        sp.p++;
    if (*sp.p == '\0') /* `remove =` with nothing: no selectors */
        return 0;
    for (;;) {
        struct clean_sel *grown = realloc(sels, (n + 1) * sizeof *sels);
        if (grown == NULL) {
            rc = -ENOMEM;
            goto fail;
        }
        sels = grown;
        sels[n++] = (struct clean_sel){0};
        if ((rc = sel_one(&sp, &sels[n - 1])) < 0)
            goto fail;
        if (*sp.p == '\0')
            break;
        sp.p++; /* ',' */
    }
    *out = sels;
    *nout = n;
    return 0;
fail:
    clean_sels_free(sels, n);
    return rc;
}

void
clean_sels_free(struct clean_sel *sels, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < sels[i].nparts; j++) {
            free(sels[i].parts[j].name);
            free(sels[i].parts[j].value);
        }
        free(sels[i].parts);
        free(sels[i].tag);
    }
    free(sels);
}

/* `token` is one of the whitespace-separated words of `list`. */
static int
sel_has_token(const char *list, const char *token)
{
    size_t tl = strlen(token);
    for (const char *p = list; *p;) {
        while (sel_is_space(*p))
            p++;
        const char *w = p;
        while (*p && !sel_is_space(*p))
            p++;
        if ((size_t)(p - w) == tl && memcmp(w, token, tl) == 0)
            return 1;
    }
    return 0;
}

static int
sel_match_one(const struct clean_sel *sel, const struct cnode *el)
{
    if (sel->tag != NULL && strcmp(sel->tag, el->name) != 0)
        return 0;
    for (size_t i = 0; i < sel->nparts; i++) {
        const struct clean_sel_part *part = &sel->parts[i];
        const char *v;
        switch (part->kind) {
        case SEL_CLASS:
            v = cnode_attr(el, "class");
            if (v == NULL || !sel_has_token(v, part->name))
                return 0;
            break;
        case SEL_ID:
            v = cnode_attr(el, "id");
            if (v == NULL || strcmp(v, part->name) != 0)
                return 0;
            break;
        case SEL_ATTR:
            if (cnode_attr(el, part->name) == NULL)
                return 0;
            break;
        case SEL_ATTR_EQ:
            v = cnode_attr(el, part->name);
            if (v == NULL || strcmp(v, part->value) != 0)
                return 0;
            break;
        }
    }
    return 1;
}

int
clean_sels_match(const struct clean_sel *sels, size_t n, const struct cnode *el)
{
    for (size_t i = 0; i < n; i++)
        if (sel_match_one(&sels[i], el))
            return 1;
    return 0;
}
