"""Articles: page extraction, charset repair, fallbacks, walls, language, over real loopback HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.fetch import fetch_settings
from support.server import LoopbackServer, Response, serve

from extractors.articles import fetch_articles
from extractors.language import detect_language
from extractors.models import FeedEntry
from extractors.page_text import decode_html, extract_article, wall_kind

WEB = Path(__file__).resolve().parent / "fixtures" / "web"
PUBLISHED = datetime(2024, 3, 12, 8, 30, tzinfo=UTC)
FULL_FEED_TEXT = (
    "La scaleup padovana Lumenia ha firmato una partnership pluriennale con una banca del Nord Est per "
    "portare i pagamenti digitali nelle piccole imprese del territorio. "
) * 6


def page(name: str) -> bytes:
    return (WEB / name).read_bytes()


def entry(
    url: str = "https://www.tecnoeconomia.example/economia/nuvolaria-dataponte", **fields: object
) -> FeedEntry:
    values: dict[str, object] = {
        "feed_name": "TecnoEconomia",
        "feed_url": "https://www.tecnoeconomia.example/feed.xml",
        "url": url,
        "link": url,
        "title": "Nuvolaria rileva la torinese DataPonte per 42 milioni di euro",
        "summary": "Il gruppo milanese Nuvolaria acquisisce il 100% di DataPonte. "
        "Prezzo: 42 milioni di euro.",
    }
    values.update(fields)
    return FeedEntry(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- extraction


def test_realistic_italian_page_gives_the_article_and_nothing_around_it() -> None:
    final = "https://www.tecnoeconomia.example/economia/nuvolaria-dataponte"
    article = extract_article(entry(), page("article_it.html"), final, "text/html; charset=utf-8")
    assert article.extraction == "page" and article.skip_reason is None and article.extractable
    assert article.language == "it"
    assert article.site == "tecnoeconomia.example"
    assert "ha firmato un accordo per acquisire il 100% di DataPonte" in article.text
    assert "Gli analisti stimano che con l'integrazione il gruppo possa superare" in article.text
    for noise in ("Accetta tutti", "profilazione", "Leggi anche", "Piazza Affari", "P.IVA", "Newsletter"):
        assert noise not in article.text, noise
    assert article.author == "Giulia Ferraris"
    assert article.title == "Nuvolaria rileva la torinese DataPonte per 42 milioni di euro"
    assert article.fetched_at is not None and article.fetched_at.tzinfo is not None


def test_page_date_used_when_the_feed_has_none() -> None:
    article = extract_article(entry(published=None), page("article_it.html"), None, "text/html")
    assert article.published is not None and article.published.date().isoformat() == "2024-03-12"
    dated = extract_article(entry(published=PUBLISHED), page("article_it.html"), None, "text/html")
    assert dated.published == PUBLISHED


@pytest.mark.parametrize(
    "content_type", [None, "text/html", "text/html; charset=utf-8", "text/html; charset=iso-8859-1"]
)
def test_windows_1252_page_decodes_right_whatever_the_header_says(content_type: str | None) -> None:
    article = extract_article(entry(title=None), page("page_cp1252.html"), None, content_type)
    assert article.extraction == "page"
    assert (
        "ha raccolto 3,5 milioni di € in un round guidato dal fondo “Mare Nostrum Ventures”" in article.text
    )
    assert "Perché è importante? Perché la città" in article.text
    assert article.title is not None and article.title.startswith("Più capitali per l’innovazione")
    assert "\ufffd" not in article.text and "Ã" not in article.text


def test_decode_html_trusts_valid_utf8_over_a_wrong_label() -> None:
    utf8 = "<p>Perché la città è più bella</p>".encode()
    assert decode_html(utf8, "text/html; charset=iso-8859-1") == "<p>Perché la città è più bella</p>"
    latin = "<meta charset='iso-8859-1'><p>perché €</p>".encode("cp1252")
    assert decode_html(latin, None).endswith("<p>perché €</p>")
    assert decode_html(b"\xff\xfe<\x00p\x00>\x00", None) == "<p>"


def test_consent_wall_is_not_fed_to_deal_extraction() -> None:
    article = extract_article(entry(), page("consent_wall.html"), None, "text/html")
    assert article.skip_reason == "consent_wall"
    assert not article.extractable
    assert "Accetta tutti" not in article.text  # the banner is not stored as the article's text


def test_paywall_stub_is_not_fed_to_deal_extraction() -> None:
    article = extract_article(entry(), page("paywall.html"), None, "text/html")
    assert article.skip_reason == "paywall"
    assert not article.extractable


def test_wall_with_a_full_text_feed_uses_the_feed() -> None:
    article = extract_article(entry(content=FULL_FEED_TEXT), page("consent_wall.html"), None, "text/html")
    assert article.skip_reason is None and article.extraction == "feed"
    assert article.text == FULL_FEED_TEXT.strip()


def test_articles_about_cookies_or_subscriptions_are_not_walls() -> None:
    text = (
        "Il Garante della privacy ha sanzionato una società di telemarketing per l'uso di cookie senza "
        "consenso. La multa, di 2 milioni di euro, arriva dopo un'istruttoria durata un anno. Secondo "
        "l'autorità, la società non chiedeva il consenso agli utenti prima di installare i cookie di "
        "profilazione e non offriva un modo semplice per rifiutarli. L'azienda ha annunciato ricorso."
    ) * 2
    assert wall_kind(text) is None
    assert (
        wall_kind(
            "La società ha lanciato un nuovo abbonamento per le imprese, con prezzi da 10 euro al mese."
        )
        is None
    )


def test_english_article_is_kept_but_skipped_for_deals() -> None:
    article = extract_article(
        entry(title="Cloudwise buys analytics start-up Graphly for $60 million", summary=None),
        page("article_en.html"),
        None,
        "text/html",
    )
    assert article.language == "en" and article.skip_reason == "language:en"
    assert "Cloudwise, the Boston-based provider" in article.text


def test_other_languages_can_be_allowed() -> None:
    article = extract_article(
        entry(title="Cloudwise buys Graphly", summary=None),
        page("article_en.html"),
        None,
        "text/html",
        languages=("it", "en"),
    )
    assert article.skip_reason is None


@pytest.mark.parametrize("content_type", ["application/pdf", "image/jpeg", "application/octet-stream"])
def test_non_html_content_falls_back_to_the_feed(content_type: str) -> None:
    article = extract_article(entry(content=FULL_FEED_TEXT), b"%PDF-1.7 binary \x00\x01", None, content_type)
    assert article.extraction == "feed" and article.text == FULL_FEED_TEXT.strip()


def test_nothing_anywhere_is_marked_no_text() -> None:
    article = extract_article(entry(summary=None, content=None), None, None, None)
    assert article.extraction == "none" and article.skip_reason == "no_text" and not article.extractable


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (
            "La società milanese ha annunciato oggi l'acquisizione della startup torinese per 20 milioni "
            "di euro, secondo quanto riferito dal suo amministratore delegato.",
            "it",
        ),
        (
            "The Milan-based company announced today that it has acquired the Turin startup for 20 million "
            "euros, according to its chief executive.",
            "en",
        ),
        (
            "L'entreprise milanaise a annoncé aujourd'hui le rachat de la startup turinoise pour 20 millions "
            "d'euros, selon son directeur général.",
            "fr",
        ),
        (
            "Das Mailänder Unternehmen hat heute die Übernahme des Turiner Startups für 20 Millionen Euro "
            "bekannt gegeben, wie sein Geschäftsführer sagte.",
            "de",
        ),
        (
            "La empresa milanesa ha anunciado hoy la adquisición de la startup de Turín por 20 millones "
            "de euros, según su consejero delegado.",
            "es",
        ),
        (
            "A empresa de Milão anunciou hoje a aquisição da startup de Turim por 20 milhões de euros, "
            "segundo o seu diretor executivo.",
            "pt",
        ),
        ("Nuvolaria compra DataPonte", None),
        ("", None),
    ],
)
def test_detect_language(text: str, language: str | None) -> None:
    assert detect_language(text) == language


# ------------------------------------------------------------------------------------- fetching


def test_fetch_articles_one_article_per_entry_in_order(web: LoopbackServer) -> None:
    routes = {
        "/it": Response(200, page("article_it.html"), {"Content-Type": "text/html; charset=utf-8"}),
        "/cp1252": Response(200, page("page_cp1252.html"), {"Content-Type": "text/html"}),
        "/missing": Response(404, b"no"),
        "/pdf": Response(200, b"%PDF-1.7", {"Content-Type": "application/pdf"}),
        "/moved": Response(301, b"", {"Location": "/it"}),
    }
    server = serve(web, routes)
    entries = [entry(server.url(p)) for p in ["/it", "/cp1252", "/missing", "/pdf", "/moved"]]
    articles = asyncio.run(fetch_articles(entries, fetch_settings()))
    assert [a.url for a in articles] == [e.url for e in entries]
    it, cp1252, missing, pdf, moved = articles
    assert it.extraction == "page" and "DataPonte" in it.text
    assert cp1252.extraction == "page" and "3,5 milioni di €" in cp1252.text
    assert missing.extraction == "feed" and missing.text.startswith("Il gruppo milanese Nuvolaria")
    assert not missing.transient_failure
    assert pdf.extraction == "feed"
    assert moved.final_url == server.url("/it") and moved.extraction == "page"
    assert all(a.site == "127.0.0.1" for a in articles)


def test_transient_failure_without_fallback_is_retried_next_run(web: LoopbackServer) -> None:
    routes = {"/busy": Response(503, b"busy"), "/gone": Response(410, b"gone")}
    server = serve(web, routes)
    entries = [entry(server.url(p), summary=None, content=None) for p in ("/busy", "/gone")]
    busy, gone = asyncio.run(fetch_articles(entries, fetch_settings()))
    assert busy.transient_failure and busy.skip_reason == "fetch_failed:503"
    assert not gone.transient_failure and gone.skip_reason == "fetch_failed:410"


def test_robots_disallowed_page_uses_the_feed_text(web: LoopbackServer) -> None:
    routes = {
        "/robots.txt": Response(200, b"User-agent: *\nDisallow: /news/\n"),
        "/news/a": Response(200, page("article_it.html"), {"Content-Type": "text/html"}),
    }
    server = serve(web, routes)
    (article,) = asyncio.run(fetch_articles([entry(server.url("/news/a"))], fetch_settings()))
    assert "/news/a" not in server.paths_requested()
    assert article.extraction == "feed" and article.text.startswith("Il gruppo milanese Nuvolaria")
