#!/usr/bin/python3
"""bench/gen_dedup_feeds.py — a deterministic corpus for deduplication precision.

usage: bench/gen_dedup_feeds.py --out DIR [--publishers N] [--days D] [--backlog B] [--seed S]

Writes DIR/day-K/NAME.xml (one RSS document a publisher a day, the first one
with BACKLOG days of earlier items, as a feed lists them), DIR/finfeed.conf
(a [feed] section a publisher) and DIR/truth.tsv (feed, guid, story, kind: the
story each item really is). The traps are the ones finance news is full of:

  column     a publisher's recurring column ("Market Wrap", "晚间公告汇总", "Daily
             FX Outlook") with a new link and a new story every day, the same
             column title carried by many publishers; some columns are
             headline-only (no text at all)
  wire       a wire story reposted by 1 to 4 other publishers within hours under
             its title (case and punctuation varied), its body lightly edited: a
             figure rewritten, a byline added, the closing sentence dropped
  headline   headline-only publishers that repeat a wire story's title without text
  own        each publisher's own stories, titled and written afresh

Different stories built from the same sentence templates share many 4-grams,
as real market wraps do: that is the precision test.
"""
import argparse
import os
import random
from email.utils import format_datetime
from datetime import datetime, timezone
from xml.sax.saxutils import escape

T0 = 1717372800  # 2024-06-03T00:00:00Z, a Monday
DAY = 86400

COLUMNS = [
    "Market Wrap", "Morning Briefing", "Stocks making the biggest moves midday",
    "Forex Daily", "Daily FX Outlook", "What to watch today", "Closing Bell",
    "晚间公告汇总", "午间要闻", "早盘必读：今日财经要闻", "收评：三大指数表现",
    "港股收评", "隔夜外盘",
]
COMPANIES_EN = ["Nvidia", "Tesla", "Apple", "Boeing", "Pfizer", "Ford", "Walmart", "Disney",
                "Intel", "Oracle", "Netflix", "Exxon", "Chevron", "Alibaba", "Meta", "AMD"]
COMPANIES_CN = ["贵州茅台", "宁德时代", "比亚迪", "中国平安", "招商银行", "五粮液", "隆基绿能",
                "中芯国际", "药明康德", "东方财富", "美的集团", "海天味业", "中国中免", "万科A"]
INDEXES_EN = ["S&P 500", "Nasdaq", "Dow", "Russell 2000", "FTSE 100", "DAX", "Nikkei"]
INDEXES_CN = ["沪指", "深成指", "创业板指", "科创50", "恒生指数", "沪深300"]
SECTORS_EN = ["energy", "banks", "chipmakers", "utilities", "retailers", "airlines", "miners"]
SECTORS_CN = ["白酒", "半导体", "光伏", "银行", "券商", "医药", "新能源车", "地产"]
VERBS_UP = ["rose", "climbed", "gained", "advanced", "rallied"]
VERBS_DOWN = ["fell", "slid", "dropped", "declined", "retreated"]
WIRE_TOPICS_EN = [
    "central bank cuts reserve requirement ratio", "regulator fines lender over disclosures",
    "chipmaker unveils new AI accelerator", "automaker recalls vehicles over brake fault",
    "oil producers extend output cuts", "insurer agrees takeover of rival",
    "retailer warns on holiday sales", "airline orders new jets", "miner halts output at pit",
    "bank sets aside more for bad loans", "utility raises dividend", "brewer cuts jobs",
]
WIRE_TOPICS_CN = ["央行下调存款准备金率", "证监会发布减持新规", "财政部发行特别国债",
                  "外汇局公布外汇储备数据", "统计局公布物价数据", "发改委部署稳增长措施",
                  "银保监会规范理财业务", "商务部回应贸易摩擦"]


def num(r, lo, hi, nd=2):
    return ("%." + str(nd) + "f") % r.uniform(lo, hi)


def en_market_sentence(r):
    k = r.randrange(6)
    if k == 0:
        return "The %s %s %s%% to %s as %s %s." % (
            r.choice(INDEXES_EN), r.choice(VERBS_UP + VERBS_DOWN), num(r, 0.1, 3),
            num(r, 1000, 40000), r.choice(SECTORS_EN), r.choice(VERBS_UP + VERBS_DOWN))
    if k == 1:
        return "%s shares %s %s%% after the company %s." % (
            r.choice(COMPANIES_EN), r.choice(VERBS_UP + VERBS_DOWN), num(r, 0.5, 15),
            r.choice(["raised its outlook", "missed estimates", "announced a buyback",
                      "named a new chief executive", "cut prices again", "beat forecasts"]))
    if k == 2:
        return "Brent crude %s to $%s a barrel while gold %s to $%s an ounce." % (
            r.choice(VERBS_UP + VERBS_DOWN), num(r, 60, 95), r.choice(VERBS_UP + VERBS_DOWN),
            num(r, 1800, 2500))
    if k == 3:
        return "The 10-year Treasury yield %s to %s%% and the dollar %s against the yen." % (
            r.choice(VERBS_UP + VERBS_DOWN), num(r, 3.5, 5), r.choice(VERBS_UP + VERBS_DOWN))
    if k == 4:
        return "Investors are watching %s data due on %s and remarks from %s." % (
            r.choice(["inflation", "payrolls", "retail sales", "housing", "PMI"]),
            r.choice(["Tuesday", "Wednesday", "Thursday", "Friday"]),
            r.choice(["Fed officials", "the ECB", "the Bank of Japan", "the PBOC"]))
    return "EUR/USD traded at %s, GBP/USD at %s and USD/JPY at %s in %s trade." % (
        num(r, 1.0, 1.2, 4), num(r, 1.2, 1.35, 4), num(r, 140, 160), r.choice(
            ["Asian", "European", "early New York", "late"]))


def cn_market_sentence(r):
    k = r.randrange(5)
    if k == 0:
        return "%s%s%s%%，报%s点，成交额%s亿元。" % (
            r.choice(INDEXES_CN), r.choice(["上涨", "下跌", "收涨", "收跌"]), num(r, 0.1, 3),
            num(r, 2000, 20000), r.randrange(2000, 12000))
    if k == 1:
        return "%s公告称，%s。" % (r.choice(COMPANIES_CN), r.choice([
            "拟以不超过%s亿元回购股份" % r.randrange(5, 60),
            "一季度净利润同比增长%s%%" % num(r, 1, 80, 1),
            "控股股东拟减持不超过%s%%股份" % num(r, 0.5, 3, 1),
            "获得政府补助%s万元" % r.randrange(100, 9000)]))
    if k == 2:
        return "北向资金全天净%s约%s亿元，%s板块获主力资金净%s%s亿元。" % (
            r.choice(["买入", "卖出"]), num(r, 5, 150), r.choice(SECTORS_CN),
            r.choice(["流入", "流出"]), num(r, 1, 40))
    if k == 3:
        return "%s研报认为，%s板块未来%s个月有望获得%s%%以上的超额收益。" % (
            r.choice(["中金公司", "华泰证券", "中信证券", "国泰君安"]), r.choice(SECTORS_CN),
            r.randrange(3, 13), num(r, 5, 20, 1))
    return "%s股价%s%s%%，总市值%s亿元。" % (
        r.choice(COMPANIES_CN), r.choice(["上涨", "下跌"]), num(r, 0.5, 10),
        r.randrange(100, 25000))


def body_of(r, cn, sentences):
    f = cn_market_sentence if cn else en_market_sentence
    return [f(r) for _ in range(sentences)]


def html(paras):
    return "".join("<p>%s</p>" % escape(p) for p in paras)


def light_edit(r, paras, cn):
    """A repost's body: one of a figure rewritten, a byline added, the closing
    sentence dropped (two of them sometimes)."""
    out = list(paras)
    for _ in range(1 + (r.random() < 0.3)):
        k = r.randrange(3)
        if k == 0:
            i = r.randrange(len(out))
            digits = [j for j, ch in enumerate(out[i]) if ch.isdigit()]
            if digits:
                j = r.choice(digits)
                out[i] = out[i][:j] + str((int(out[i][j]) + 1) % 10) + out[i][j + 1:]
        elif k == 1:
            out.insert(0, "（本文来源：财联社）" if cn else "(Reuters) -")
        elif len(out) > 3:
            out.pop()
    return out


def vary_title(r, t):
    k = r.randrange(4)
    if k == 0:
        return t.upper() if t.isascii() else t
    if k == 1:
        return t + ("！" if not t.isascii() else "!")
    if k == 2:
        return t.replace(" ", "  ").replace("：", ": ")
    return t


class Item:
    def __init__(self, feed, guid, title, link, body, when, story, kind):
        self.feed, self.guid, self.title, self.link = feed, guid, title, link
        self.body, self.when, self.story, self.kind = body, when, story, kind


def generate(r, publishers, days, backlog):
    names = ["pub-%03d" % i for i in range(publishers)]
    headline_only = set(names[::10])  # one publisher in ten has no text at all
    cn = {n: r.random() < 0.4 for n in names}
    columns = {n: r.sample(COLUMNS, 1 + (r.random() < 0.4)) for n in names}
    items = []
    story = 0
    for d in range(-backlog, days):
        for n in names:
            # the publisher's columns: a new story every day
            for ci, col in enumerate(columns[n]):
                story += 1
                when = T0 + d * DAY + 7 * 3600 + ci * 1800 + r.randrange(3600)
                no_text = n in headline_only or r.random() < 0.15
                body = "" if no_text else html(body_of(r, cn[n] or not col.isascii(), 4 + r.randrange(4)))
                items.append(Item(n, "%s-col%d-d%d" % (n, ci, d), col,
                                  "https://%s.example/column/%d/%d" % (n, ci, d), body, when,
                                  story, "column"))
            # the publisher's own stories
            for k in range(2):
                story += 1
                when = T0 + d * DAY + r.randrange(DAY)
                ttl = "%s %s %s%% on %s" % (r.choice(COMPANIES_EN), r.choice(VERBS_UP + VERBS_DOWN),
                                            num(r, 1, 20, 1), r.choice(["outlook", "earnings", "deal news",
                                                                        "guidance", "probe report"]))
                if cn[n]:
                    ttl = "%s%s%s%%：%s" % (r.choice(COMPANIES_CN), r.choice(["涨", "跌"]),
                                           num(r, 1, 20, 1), r.choice(["业绩超预期", "回购落地", "获机构调研"]))
                body = "" if n in headline_only else html(body_of(r, cn[n], 3 + r.randrange(5)))
                items.append(Item(n, "%s-own-d%d-%d" % (n, d, k), ttl + " (%d)" % story,
                                  "https://%s.example/news/%d" % (n, story), body, when, story, "own"))
        # wire stories, reposted by others within hours
        for w in range(publishers // 5):
            story += 1
            cnw = r.random() < 0.4
            topic = r.choice(WIRE_TOPICS_CN if cnw else WIRE_TOPICS_EN)
            title = ("%s（第%d期）" % (topic, story)) if cnw else \
                "%s, sources say (%d)" % (topic.capitalize(), story)
            paras = body_of(r, cnw, 4 + r.randrange(5))
            origin = r.choice(names)
            when = T0 + d * DAY + r.randrange(DAY - 6 * 3600)
            carriers = [origin] + r.sample([x for x in names if x != origin], 1 + r.randrange(4))
            for i, n in enumerate(carriers):
                if n in headline_only:
                    body, kind = "", "headline"
                else:
                    body, kind = html(paras if i == 0 else light_edit(r, paras, cnw)), "wire"
                items.append(Item(n, "%s-wire-%d" % (n, story), title if i == 0 else vary_title(r, title),
                                  "https://%s.example/wire/%d?utm_source=rss" % (n, story * 7 + i),
                                  body, when + (r.randrange(600, 4 * 3600) if i else 0), story, kind))
    return names, items


def rss(feed, items):
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>',
           "<title>%s</title><link>https://%s.example/</link>" % (feed, feed)]
    for it in sorted(items, key=lambda i: -i.when):
        out.append("<item><title>%s</title><link>%s</link><guid isPermaLink=\"false\">%s</guid>"
                   "<pubDate>%s</pubDate>%s</item>" % (
                       escape(it.title), escape(it.link), it.guid,
                       format_datetime(datetime.fromtimestamp(it.when, timezone.utc), usegmt=True),
                       "<description>%s</description>" % escape(it.body) if it.body else ""))
    out.append("</channel></rss>\n")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--publishers", type=int, default=300)
    ap.add_argument("--days", type=int, default=5)
    ap.add_argument("--backlog", type=int, default=2,
                    help="days of items the first document of a feed lists already")
    ap.add_argument("--seed", type=int, default=20261204)
    a = ap.parse_args()
    r = random.Random(a.seed)
    names, items = generate(r, a.publishers, a.days, a.backlog)
    os.makedirs(a.out, exist_ok=True)
    for d in range(a.days):
        ddir = os.path.join(a.out, "day-%d" % d)
        os.makedirs(ddir, exist_ok=True)
        # a feed's first document lists its recent items, as real feeds do
        lo, hi = T0 + d * DAY if d else 0, T0 + (d + 1) * DAY
        for n in names:
            mine = [i for i in items if i.feed == n and lo <= i.when < hi]
            with open(os.path.join(ddir, n + ".xml"), "w", encoding="utf-8") as f:
                f.write(rss(n, mine))
    with open(os.path.join(a.out, "finfeed.conf"), "w", encoding="utf-8") as f:
        f.write("[daemon]\ndatabase = dedup.db\n")
        for n in names:
            f.write('[feed "%s"]\nurl = https://%s.example/rss\n' % (n, n))
    with open(os.path.join(a.out, "truth.tsv"), "w", encoding="utf-8") as f:
        for it in items:
            f.write("%s\t%s\t%d\t%s\n" % (it.feed, it.guid, it.story, it.kind))


if __name__ == "__main__":
    main()
