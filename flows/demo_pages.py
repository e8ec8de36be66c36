"""Renders the bundled sample sites (flows/demo_site/site.yaml) into feeds and article pages.

Kept apart from the server and the demo command so that tests can serve the same realistic pages.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from importlib import resources
from string import Template
from typing import Any

import yaml

from flows.demo_server import Page

ROBOTS = Page(b"User-agent: *\nDisallow: /privacy/\n", "text/plain; charset=utf-8")
_MONTHS = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
]


def load_sites() -> list[dict[str, Any]]:
    text = resources.files("flows.demo_site").joinpath("site.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)["sites"]


def _layout() -> Template:
    return Template(resources.files("flows.demo_site").joinpath("layout.html").read_text(encoding="utf-8"))


def _published(article: dict[str, Any], now: datetime) -> datetime:
    day = (now - timedelta(days=int(article["days_ago"]))).replace(hour=9, minute=30, second=0, microsecond=0)
    return day + timedelta(minutes=7 * len(article["slug"]))  # distinct times within a day


def article_path(article: dict[str, Any]) -> str:
    return f"/{article['days_ago']}/{article['slug']}/"


def render_site(site: dict[str, Any], base_url: str, now: datetime | None = None) -> dict[str, Page]:
    """path -> Page for one site: its feed, its articles, robots.txt and a home page."""
    now = now or datetime.now(UTC)
    by_slug = {a["slug"]: a for a in site["articles"]}
    pages = {"/robots.txt": ROBOTS}
    for article in site["articles"]:
        pages[article_path(article)] = Page(_render_article(site, article, by_slug, base_url, now).encode())
    feed = (
        _render_rss(site, base_url, now)
        if site["feed_format"] == "rss"
        else _render_atom(site, base_url, now)
    )
    ctype = "application/rss+xml; charset=utf-8" if site["feed_format"] == "rss" else "application/atom+xml"
    pages[site["feed_path"]] = Page(feed.encode(), ctype)
    links = "".join(
        f'<li><a href="{article_path(a)}">{html.escape(a["title"])}</a></li>' for a in site["articles"]
    )
    pages["/"] = Page(
        f"<html lang='it'><body><h1>{html.escape(site['name'])}</h1><ul>{links}</ul></body></html>".encode()
    )
    return pages


def _render_article(
    site: dict[str, Any], article: dict[str, Any], by_slug: dict[str, Any], base_url: str, now: datetime
) -> str:
    e = html.escape
    published = _published(article, now)
    paragraphs = [f"      <p>{e(p)}</p>" for p in article["body"]]
    # An ad slot in the middle of the text, as publishers do; extraction must leave it out.
    paragraphs.insert(
        min(2, len(paragraphs)),
        '      <div class="adv adv-inline" data-slot="mid-300x250"><span>Pubblicità</span></div>',
    )
    related = [
        f'      <li><a href="{article_path(by_slug[s])}">{e(by_slug[s]["title"])}</a></li>'
        for s in article.get("related", [])
        if s in by_slug
    ]
    section = article.get("section", "Notizie")
    return _layout().substitute(
        title=e(article["title"]),
        site_name=e(site["name"]),
        summary=e(article["summary"]),
        author=e(article["author"]),
        published_iso=published.isoformat(),
        published_human=f"{published.day} {_MONTHS[published.month - 1]} {published.year}, {published:%H:%M}",
        section=e(section),
        section_slug=section.lower().replace(" ", "-"),
        url=base_url + article_path(article),
        tagline=e(site["tagline"]),
        year=now.year,
        feed_url=site["feed_path"],
        nav_items="\n".join(
            f'      <li><a href="/sezione/{e(n.lower())}/">{e(n)}</a></li>' for n in site["nav"]
        ),
        body="\n".join(paragraphs),
        related_items="\n".join(related),
    )


def _render_rss(site: dict[str, Any], base_url: str, now: datetime) -> str:
    e = html.escape
    items = []
    for a in site["articles"]:
        link = (
            base_url + article_path(a) + "?utm_source=rss&utm_medium=feed"
        )  # tracking params, as in the wild
        items.append(f"""  <item>
    <title>{e(a["title"])}</title>
    <link>{e(link)}</link>
    <guid isPermaLink="false">{e(site["domain_hint"])}-{e(a["slug"])}</guid>
    <dc:creator>{e(a["author"])}</dc:creator>
    <category>{e(a.get("section", "Notizie"))}</category>
    <pubDate>{format_datetime(_published(a, now))}</pubDate>
    <description>{e(a["summary"])}</description>
  </item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>{e(site["name"])}</title>
  <link>{e(base_url)}/</link>
  <description>{e(site["tagline"])}</description>
  <language>it-IT</language>
  <lastBuildDate>{format_datetime(_newest(site, now))}</lastBuildDate>
{chr(10).join(items)}
</channel>
</rss>
"""


def _render_atom(site: dict[str, Any], base_url: str, now: datetime) -> str:
    e = html.escape
    entries = []
    for a in site["articles"]:
        published = _published(a, now).isoformat()
        entries.append(f"""  <entry>
    <title>{e(a["title"])}</title>
    <link rel="alternate" type="text/html" href="{e(base_url + article_path(a))}#commenti"/>
    <id>tag:{e(site["domain_hint"])}.example,2026:{e(a["slug"])}</id>
    <published>{published}</published>
    <updated>{published}</updated>
    <author><name>{e(a["author"])}</name></author>
    <summary>{e(a["summary"])}</summary>
  </entry>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="it">
  <title>{e(site["name"])}</title>
  <subtitle>{e(site["tagline"])}</subtitle>
  <link rel="self" href="{e(base_url + site["feed_path"])}"/>
  <id>{e(base_url)}/</id>
  <updated>{_newest(site, now).isoformat()}</updated>
{chr(10).join(entries)}
</feed>
"""


def _newest(site: dict[str, Any], now: datetime) -> datetime:
    # The feed changes when its articles do, not on every request (so conditional GETs can answer 304).
    return max(_published(a, now) for a in site["articles"])
