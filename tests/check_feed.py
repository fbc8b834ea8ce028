#!/usr/bin/python3
# tests/check_feed.py — validates one document written by daemon/emit_feed.c
# with real consumers: python3-feedparser (no bozo) and the MUSTs of RFC 4287,
# RSS 2.0 and JSON Feed 1.1, checked with xml.etree / json.
# Usage: check_feed.py atom|rss|json FILE [EXPECT.json]
# EXPECT is a list of {"id", "title", "link"} (link null: none), in order.
# Exit 0 when valid; 1 with one line per problem; 77 when feedparser is missing.
import json
import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime

ATOM = "{http://www.w3.org/2005/Atom}"
XHTML = "{http://www.w3.org/1999/xhtml}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
RFC822 = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} "
                    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                    r"\d{2}:\d{2}:\d{2} (GMT|[+-]\d{4})$")
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")

problems = []


def fail(msg):
    problems.append(msg)


def check_rfc3339(where, text):
    if text is None or not RFC3339.match(text):
        fail(f"{where}: not an RFC 3339 date: {text!r}")
        return
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{where}: impossible date: {text!r}")


def count(el, tag):
    return len(el.findall(tag))


def exactly_one(where, el, names):
    for n in names:
        c = count(el, ATOM + n)
        if c != 1:
            fail(f"{where}: {c} atom:{n} elements, exactly one required")


def at_most_one(where, el, names):
    for n in names:
        c = count(el, ATOM + n)
        if c > 1:
            fail(f"{where}: {c} atom:{n} elements, at most one allowed")


def check_text_construct(where, el):
    """RFC 4287 §3.1: type text|html|xhtml; text and html have no child
    elements; xhtml holds exactly one xhtml:div."""
    kind = el.get("type", "text")
    if kind in ("text", "html"):
        if len(el):
            fail(f"{where}: type={kind} with child elements")
    elif kind == "xhtml":
        if len(el) != 1 or el[0].tag != XHTML + "div":
            fail(f"{where}: type=xhtml without exactly one xhtml:div")
    else:
        fail(f"{where}: text construct type {kind!r}")


def check_person(where, el):
    # §3.2: exactly one atom:name; at most one uri and email.
    exactly_one(where, el, ["name"])
    at_most_one(where, el, ["uri", "email"])


def check_links(where, el):
    # §4.2.7: href is required; §4.1.1 / §4.1.2: at most one alternate link
    # with the same combination of type and hreflang.
    seen = set()
    for link in el.findall(ATOM + "link"):
        if not link.get("href"):
            fail(f"{where}: atom:link without href")
        if link.get("rel", "alternate") == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            if key in seen:
                fail(f"{where}: two alternate links with type/hreflang {key}")
            seen.add(key)


def check_common(where, el):
    """Children shared by feed, entry and source (§4.2)."""
    for child in el.findall(ATOM + "id"):
        if not IRI.match((child.text or "").strip()):
            fail(f"{where}: atom:id is not an absolute IRI: {child.text!r}")
    for n in ("title", "subtitle", "summary", "rights"):
        for child in el.findall(ATOM + n):
            check_text_construct(f"{where} atom:{n}", child)
    for n in ("updated", "published"):
        for child in el.findall(ATOM + n):
            check_rfc3339(f"{where} atom:{n}", child.text)
    for n in ("author", "contributor"):
        for child in el.findall(ATOM + n):
            check_person(f"{where} atom:{n}", child)
    for cat in el.findall(ATOM + "category"):
        if not cat.get("term"):
            fail(f"{where}: atom:category without term")
    check_links(where, el)


def check_atom_tree(path):
    root = ET.parse(path).getroot()
    if root.tag != ATOM + "feed":
        fail(f"root element is {root.tag}, not atom:feed")
        return
    exactly_one("feed", root, ["id", "title", "updated"])
    at_most_one("feed", root, ["generator", "icon", "logo", "rights", "subtitle"])
    check_common("feed", root)
    feed_author = count(root, ATOM + "author") > 0
    for i, entry in enumerate(root.findall(ATOM + "entry")):
        where = f"entry {i}"
        exactly_one(where, entry, ["id", "title", "updated"])
        at_most_one(where, entry, ["content", "published", "rights", "source", "summary"])
        check_common(where, entry)
        source = entry.find(ATOM + "source")
        if source is not None:
            at_most_one(where + " source", source,
                        ["id", "title", "updated", "generator", "icon", "logo", "rights",
                         "subtitle"])
            check_common(where + " source", source)
        # §4.1.2: an author in the entry, its source, or the feed.
        if not (count(entry, ATOM + "author") or feed_author or
                (source is not None and count(source, ATOM + "author"))):
            fail(f"{where}: no atom:author (nor in source or feed)")
        content = entry.find(ATOM + "content")
        alternate = [l for l in entry.findall(ATOM + "link")
                     if l.get("rel", "alternate") == "alternate"]
        if content is None:
            if not alternate:
                fail(f"{where}: neither atom:content nor an alternate link")
            continue
        kind = content.get("type", "text")
        if content.get("src") is not None:
            # §4.1.3.2: content with src is empty; §4.1.1.2 then needs a summary.
            if (content.text or "").strip() or len(content):
                fail(f"{where}: atom:content with src is not empty")
            if entry.find(ATOM + "summary") is None:
                fail(f"{where}: atom:content with src but no atom:summary")
        elif kind in ("text", "html", "xhtml"):
            check_text_construct(f"{where} atom:content", content)
        elif not (kind.endswith("+xml") or kind.endswith("/xml") or kind.startswith("text/")):
            # §4.1.3.3: other media types are Base64, and §4.1.1.2 wants a summary.
            if entry.find(ATOM + "summary") is None:
                fail(f"{where}: Base64 atom:content ({kind}) but no atom:summary")


def check_rss_tree(path):
    root = ET.parse(path).getroot()
    if root.tag != "rss" or root.get("version") != "2.0":
        fail(f"root element is {root.tag} version {root.get('version')}, not rss 2.0")
        return
    channels = root.findall("channel")
    if len(channels) != 1:
        fail(f"{len(channels)} channel elements")
        return
    ch = channels[0]
    for n in ("title", "link", "description"):
        if len(ch.findall(n)) != 1:
            fail(f"channel: {len(ch.findall(n))} {n} elements, exactly one required")
    for n in ("lastBuildDate", "pubDate"):
        for d in ch.findall(n):
            if not RFC822.match(d.text or ""):
                fail(f"channel {n}: not an RFC 822 date: {d.text!r}")
    for i, item in enumerate(ch.findall("item")):
        where = f"item {i}"
        if item.find("title") is None and item.find("description") is None:
            fail(f"{where}: neither title nor description")
        for n in ("title", "link", "description", "guid", "pubDate", "source", "comments"):
            if len(item.findall(n)) > 1:
                fail(f"{where}: {len(item.findall(n))} {n} elements")
        for d in item.findall("pubDate"):
            if not RFC822.match(d.text or ""):
                fail(f"{where} pubDate: not an RFC 822 date: {d.text!r}")
        for e in item.findall("enclosure"):
            if not e.get("url") or e.get("length") is None or not e.get("type"):
                fail(f"{where}: enclosure needs url, length and type")
            elif not e.get("length").isdigit():
                fail(f"{where}: enclosure length {e.get('length')!r}")
        for s in item.findall("source"):
            if not s.get("url"):
                fail(f"{where}: source without url")
        for a in item.findall("author"):
            if "@" not in (a.text or ""):
                fail(f"{where}: RSS author is not an e-mail address: {a.text!r}")


def check_feedparser(fmt, path, expect):
    try:
        import feedparser
    except ImportError:
        return False
    d = feedparser.parse(path)
    if d.bozo:
        fail(f"feedparser bozo: {d.bozo_exception!r}")
    want = {"atom": "atom10", "rss": "rss20"}[fmt]
    if d.version != want:
        fail(f"feedparser version {d.version!r}, expected {want!r}")
    if expect is None:
        return True
    if len(d.entries) != len(expect):
        fail(f"feedparser read {len(d.entries)} entries, expected {len(expect)}")
    for i, (got, exp) in enumerate(zip(d.entries, expect)):
        for key in ("id", "title", "link"):
            if key == "link" and exp.get(key) is None and got.get(key) == got.get("id"):
                continue  # feedparser's fallback: an Atom entry's id as its link
            if got.get(key) != exp.get(key):
                fail(f"entry {i} {key}: got {got.get(key)!r}, expected {exp.get(key)!r}")
        # instruments (SPEC §12): categories of the tickers scheme, in order
        tickers = [t.get("term") for t in got.get("tags", [])
                   if (t.get("scheme") or "").endswith("/tickers")]
        if tickers != exp.get("tickers", []):
            fail(f"entry {i} tickers: got {tickers!r}, expected {exp.get('tickers', [])!r}")
        plain = [t.get("term") for t in got.get("tags", [])
                 if not (t.get("scheme") or "").endswith("/tickers")]
        if any(t in plain for t in tickers):
            fail(f"entry {i}: a ticker is also a plain category: {plain!r}")
    return True


JSON_TOP = {"version", "title", "home_page_url", "feed_url", "description", "user_comment",
            "next_url", "icon", "favicon", "authors", "author", "language", "expired",
            "hubs", "items"}
JSON_ITEM = {"id", "url", "external_url", "title", "content_html", "content_text", "summary",
             "image", "banner_image", "date_published", "date_modified", "authors", "author",
             "tags", "language", "attachments"}


def check_json(path, expect):
    with open(path, "rb") as f:
        doc = json.loads(f.read().decode("utf-8"))
    if not isinstance(doc, dict):
        fail("top level is not an object")
        return
    if doc.get("version") != "https://jsonfeed.org/version/1.1":
        fail(f"version {doc.get('version')!r}")
    if not isinstance(doc.get("title"), str):
        fail("title missing or not a string")
    for k in doc:
        if k not in JSON_TOP and not k.startswith("_"):
            fail(f"unknown top-level key {k!r} (extensions start with '_')")
    for k in ("home_page_url", "feed_url", "description"):
        if k in doc and not isinstance(doc[k], str):
            fail(f"{k} is not a string")
    items = doc.get("items")
    if not isinstance(items, list):
        fail("items missing or not a list")
        return
    for i, item in enumerate(items):
        where = f"item {i}"
        if not isinstance(item, dict):
            fail(f"{where}: not an object")
            continue
        if not isinstance(item.get("id"), str) or not item["id"]:
            fail(f"{where}: id missing or not a non-empty string")
        if not isinstance(item.get("content_html"), str) and \
                not isinstance(item.get("content_text"), str):
            fail(f"{where}: neither content_html nor content_text")
        for k in item:
            if k not in JSON_ITEM and not k.startswith("_"):
                fail(f"{where}: unknown key {k!r} (extensions start with '_')")
        for k in ("url", "title", "summary", "image", "content_html"):
            if k in item and not isinstance(item[k], str):
                fail(f"{where}: {k} is not a string")
        for k in ("date_published", "date_modified"):
            if k in item:
                check_rfc3339(f"{where} {k}", item[k])
        if "authors" in item:
            if not isinstance(item["authors"], list) or not all(
                    isinstance(a, dict) and any(isinstance(a.get(f), str)
                                                for f in ("name", "url", "avatar"))
                    for a in item["authors"]):
                fail(f"{where}: authors must be objects with name, url or avatar")
        if "tags" in item and (not isinstance(item["tags"], list) or
                               not all(isinstance(t, str) for t in item["tags"])):
            fail(f"{where}: tags must be a list of strings")
    if expect is None:
        return
    if len(items) != len(expect):
        fail(f"{len(items)} items, expected {len(expect)}")
    for i, (got, exp) in enumerate(zip(items, expect)):
        for key, jkey in (("id", "id"), ("title", "title"), ("link", "url")):
            if got.get(jkey) != exp.get(key):
                fail(f"item {i} {jkey}: got {got.get(jkey)!r}, expected {exp.get(key)!r}")
        ext = got.get("_finfeed", {})
        if ext.get("tickers", []) != exp.get("tickers", []) or ext.get("tickers") == []:
            fail(f"item {i} _finfeed.tickers: got {ext.get('tickers')!r},"
                 f" expected {exp.get('tickers')!r} (absent when none)")


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("atom", "rss", "json"):
        print("usage: check_feed.py atom|rss|json FILE [EXPECT.json]", file=sys.stderr)
        return 2
    fmt, path = sys.argv[1], sys.argv[2]
    expect = None
    have_feedparser = True
    if len(sys.argv) == 4:
        with open(sys.argv[3], encoding="utf-8") as f:
            expect = json.load(f)
    try:
        if fmt == "json":
            check_json(path, expect)
        else:
            (check_atom_tree if fmt == "atom" else check_rss_tree)(path)
            have_feedparser = check_feedparser(fmt, path, expect)
    except (ET.ParseError, ValueError, UnicodeDecodeError) as e:
        fail(f"not well-formed: {e}")
    for p in problems:
        print(f"check_feed: {fmt} {path}: {p}", file=sys.stderr)
    if problems:
        return 1
    if not have_feedparser:
        print("check_feed: python3-feedparser is missing", file=sys.stderr)
        return 77
    return 0


if __name__ == "__main__":
    sys.exit(main())
