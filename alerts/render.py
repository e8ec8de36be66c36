"""Alert messages as plain text, Markdown and HTML.

Everything that comes from feeds (company names, titles, evidence, links) is untrusted: control characters
are stripped, long values are trimmed with an ellipsis, and each form escapes for its own syntax (HTML
entities, Markdown backslashes), so a company called `<script>` or `[x](http://evil)` shows as text and never
becomes markup or a link. Links are only made from http(s) URLs, percent-encoded where they could break out.
Message titles (mail subjects, chat headings) are passed to channels that may or may not interpret markup,
so markup characters are removed from them instead of escaped.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlsplit

NAME_MAX = 120
EVIDENCE_MAX = 500
ARTICLE_TITLE_MAX = 200
URL_MAX = 500
TITLE_MAX = 200
DIGEST_MAX_DEALS = 50

# Telegram's MarkdownV2 needs every one of these escaped; CommonMark accepts a backslash before each.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-=.!|~])")
_TITLE_MARKUP = re.compile(r"[<>\[\]()*_`#|~\\{}]")


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class DealView:
    """What a message says about one deal (a snapshot of its `deals` row plus its sources)."""

    deal_id: str
    revision: int
    deal_type: str
    acquirer: str | None = None
    target: str | None = None
    parties: list[str] = field(default_factory=list)
    amount: float | None = None
    currency: str | None = None
    amount_eur: float | None = None
    stake_pct: float | None = None
    valuation: float | None = None
    status: str | None = None
    n_sources: int = 1
    n_mentions: int = 1
    first_url: str | None = None
    first_site: str | None = None
    first_title: str | None = None
    latest_url: str | None = None  # updates: the newest mention, the one that says what changed
    latest_site: str | None = None
    latest_title: str | None = None
    evidence: str | None = None  # from the first mention (new) or the newest one (update)
    kind: str = "new"  # new | update
    changes: list[Change] = field(default_factory=list)
    watchlist: list[str] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # every rule of this destination that matched the deal


@dataclass
class Message:
    title: str
    text: str
    markdown: str
    html: str


# --- cleaning and escaping ----------------------------------------------------------------------------------


def clean(value: object, limit: int) -> str:
    """Printable, single-line text of at most `limit` characters (an ellipsis marks a cut)."""
    if value is None:
        return ""
    text = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in str(value))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def md_escape(text: str) -> str:
    """Backslash-escape Markdown syntax, and break "://" so that renderers do not auto-link feed text."""
    return _MD_SPECIAL.sub(r"\\\1", text).replace("://", ":\u200b//")


def title_safe(text: str) -> str:
    """Markup characters removed and "://" broken: safe as a subject or a chat heading in any format."""
    return " ".join(_TITLE_MARKUP.sub(" ", text).replace("://", ": //").split())


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with characters that could end a Markdown/HTML link percent-encoded; else None."""
    if not url:
        return None
    url = clean(url, URL_MAX * 2)
    if " " in url or len(url) > URL_MAX:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    if scheme not in ("http", "https"):
        return None
    return quote(url, safe="/:?=&%#;,@+$!*'~-._")


# --- facts in words -----------------------------------------------------------------------------------------


def format_money(amount: float | None, currency: str | None) -> str:
    if amount is None:
        return ""
    cur = clean(currency or "", 5) or "?"
    for size, word in ((1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if abs(amount) >= size:
            return f"{amount / size:,.3g} {word} {cur}".replace(",", "")
    return f"{amount:,.0f} {cur}"


def amount_line(view: DealView) -> str:
    main = format_money(view.amount, view.currency)
    if not main:
        return "not disclosed"
    if view.amount_eur is not None and (view.currency or "").upper() != "EUR":
        return f"{main} (about {format_money(view.amount_eur, 'EUR')})"
    return main


def _stake(pct: float | None) -> str:
    return "" if pct is None else f"{pct:g}%"


def _facts(view: DealView) -> list[tuple[str, str]]:
    """(label, value) pairs, values already cleaned and trimmed but not escaped."""
    parties = [clean(p, NAME_MAX) for p in view.parties if p]
    rows = [
        ("Type", clean(view.deal_type, 40).replace("_", " ")),
        ("Acquirer / investor", clean(view.acquirer, NAME_MAX)),
        ("Target", clean(view.target, NAME_MAX)),
        ("Parties", ", ".join(parties[:8]) + (f" (+{len(parties) - 8} more)" if len(parties) > 8 else "")),
        ("Amount", amount_line(view)),
        ("Stake", _stake(view.stake_pct)),
        ("Valuation", format_money(view.valuation, view.currency)),
        ("Status", clean(view.status, 20)),
        ("Sources", f"{view.n_sources} ({view.n_mentions} mentions)"),
        ("Watchlist", ", ".join(clean(w, NAME_MAX) for w in view.watchlist)),
        ("Matched", ", ".join(clean(r, 80) for r in view.rules)),
    ]
    return [(label, value) for label, value in rows if value]


def headline(view: DealView) -> str:
    """Who does what, e.g. "acquisition: Acme → Beta", trimmed and free of markup characters."""
    a, t = title_safe(clean(view.acquirer, 60)), title_safe(clean(view.target, 60))
    others = ", ".join(n for n in (title_safe(clean(p, 60)) for p in view.parties[:3]) if n)
    names = f"{a} → {t}" if a and t else a or t or others
    return f"{title_safe(clean(view.deal_type, 40).replace('_', ' '))}: {names or 'unnamed parties'}"


def _changes(view: DealView) -> list[str]:
    return [f"{c.field}: {clean(c.old, 80) or 'none'} -> {clean(c.new, 80) or 'none'}" for c in view.changes]


def _source(title: str | None, site: str | None, url: str | None) -> tuple[str, str | None]:
    label = clean(title, ARTICLE_TITLE_MAX) or clean(site, 80) or "article"
    site = clean(site, 80)
    if site and site not in label:
        label = f"{label} ({site})"
    return label, safe_url(url)


def _sources(view: DealView) -> list[tuple[str, str, str | None]]:
    """(heading, label, safe url or None): the first source, and for an update the newest one as well."""
    found = [("First source", *_source(view.first_title, view.first_site, view.first_url))]
    if view.kind == "update" and view.latest_url and view.latest_url != view.first_url:
        found.append(("Latest source", *_source(view.latest_title, view.latest_site, view.latest_url)))
    return found


# --- the three forms ----------------------------------------------------------------------------------------


def _text_block(view: DealView) -> list[str]:
    lines = [f"{label}: {value}" for label, value in _facts(view)]
    lines += [f"Changed: {c}" for c in _changes(view)]
    for heading, label, url in _sources(view):
        lines.append(f"{heading}: {label}" + (f" <{url}>" if url else ""))
    if view.evidence:
        lines.append(f'Evidence: "{clean(view.evidence, EVIDENCE_MAX)}"')
    return lines


def _md_block(view: DealView) -> list[str]:
    lines = [f"- **{label}:** {md_escape(value)}" for label, value in _facts(view)]
    lines += [f"- **Changed:** {md_escape(c)}" for c in _changes(view)]
    for heading, label, url in _sources(view):
        link = f"[{md_escape(label)}]({url})" if url else md_escape(label)
        lines.append(f"- **{heading}:** {link}")
    if view.evidence:
        lines.append(f"- **Evidence:** “{md_escape(clean(view.evidence, EVIDENCE_MAX))}”")
    return lines


def _html_block(view: DealView) -> str:
    e = html.escape
    rows = [f"<li><b>{e(label)}:</b> {e(value)}</li>" for label, value in _facts(view)]
    rows += [f"<li><b>Changed:</b> {e(c)}</li>" for c in _changes(view)]
    for heading, label, url in _sources(view):
        # The address is also shown as text: mail clients reading the plain-text part keep it.
        link = f'<a href="{e(url, quote=True)}">{e(label)}</a><br>{e(url)}' if url else e(label)
        rows.append(f"<li><b>{heading}:</b> {link}</li>")
    if view.evidence:
        rows.append(f"<li><b>Evidence:</b> “{e(clean(view.evidence, EVIDENCE_MAX))}”</li>")
    return "<ul>" + "".join(rows) + "</ul>"


def _footer(alert_id: str) -> tuple[str, str, str]:
    text = f"dealradar alert id {alert_id}"
    return text, md_escape(text), f"<p><i>{html.escape(text)}</i></p>"


def render_instant(view: DealView, rule_name: str, alert_id: str) -> Message:
    """One deal: "New deal" or "Deal update" with what changed since the last alert, naming the rules that
    matched it (`view.rules`, else `rule_name`)."""
    if not view.rules:
        view = replace(view, rules=[rule_name])
    word = "Deal update" if view.kind == "update" else "New deal"
    title = clean(f"[dealradar] {word}: {headline(view)}", TITLE_MAX)
    head = clean(f"{word}: {headline(view)}", TITLE_MAX)
    ft, fm, fh = _footer(alert_id)
    text = "\n".join([head, "", *_text_block(view), "", ft])
    markdown = "\n".join([f"**{md_escape(head)}**", "", *_md_block(view), "", fm])
    body_html = f"<p><b>{html.escape(head)}</b></p>{_html_block(view)}{fh}"
    return Message(title=title, text=text, markdown=markdown, html=body_html)


def render_digest(views: list[DealView], rule_name: str, alert_id: str) -> Message:
    """All deals of one run for one destination, capped at DIGEST_MAX_DEALS (the rest counted).

    `rule_name` names the digest (the digest rules sharing the destination, joined); each deal says which
    of them matched it."""
    shown, rest = views[:DIGEST_MAX_DEALS], max(0, len(views) - DIGEST_MAX_DEALS)
    n_new = sum(1 for v in views if v.kind != "update")
    summary = f"{len(views)} deals, {n_new} new, {len(views) - n_new} updated"
    title = clean(f"[dealradar] Digest {title_safe(clean(rule_name, 60))}: {summary}", TITLE_MAX)
    ft, fm, fh = _footer(alert_id)
    text = [title, ""]
    markdown = [f"**{md_escape(title)}**", ""]
    body_html = [f"<p><b>{html.escape(title)}</b></p>"]
    for i, view in enumerate(shown, 1):
        head = f"{i}. {'Update' if view.kind == 'update' else 'New'}: {headline(view)}"
        text += [head, *(f"   {line}" for line in _text_block(view)), ""]
        markdown += [f"### {md_escape(head)}", *_md_block(view), ""]
        body_html.append(f"<h3>{html.escape(head)}</h3>{_html_block(view)}")
    if rest:
        more = f"... and {rest} more deals: see dealradar deals."
        text.append(more)
        markdown.append(md_escape(more))
        body_html.append(f"<p>{html.escape(more)}</p>")
    return Message(
        title=title,
        text="\n".join([*text, ft]),
        markdown="\n".join([*markdown, fm]),
        html="".join([*body_html, fh]),
    )


def sample_view() -> DealView:
    """A made-up deal for `dealradar alerts test`."""
    return DealView(
        deal_id="sample",
        revision=1,
        deal_type="acquisition",
        acquirer="Esempio Holding S.p.A.",
        target="Startup Dimostrativa S.r.l.",
        parties=["Esempio Holding S.p.A.", "Startup Dimostrativa S.r.l."],
        amount=12_500_000,
        currency="EUR",
        amount_eur=12_500_000,
        stake_pct=100,
        status="announced",
        n_sources=2,
        n_mentions=3,
        first_url="https://example.org/notizia-di-prova",
        first_site="example.org",
        first_title="Test message from dealradar (not a real deal)",
        evidence="This is a sample alert sent by `dealradar alerts test`; no real deal is involved.",
    )
