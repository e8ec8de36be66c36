"""Canonical URLs: the same story reached through different tracking links is one article."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from extractors.urls import canonical_url, redact_url, site_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "https://www.Example.it/economia/articolo?utm_source=rss&utm_medium=feed&id=42#commenti",
            "https://www.example.it/economia/articolo?id=42",
        ),
        (
            "HTTP://WWW.EXAMPLE.IT:80/a?b=1&fbclid=XYZ&c=2&gclid=1&mc_cid=9&ref=home",
            "http://www.example.it/a?b=1&c=2",
        ),
        ("https://example.it:443/a", "https://example.it/a"),
        ("https://example.it:8443/a", "https://example.it:8443/a"),
        ("https://example.it", "https://example.it/"),
        ("https://user:secret@example.it/a", "https://example.it/a"),  # credentials are never stored
        ("  https://example.it/a?q=caf%C3%A8&x=a+b  ", "https://example.it/a?q=caf%C3%A8&x=a+b"),
        ("https://example.it/a?UTM_Campaign=x", "https://example.it/a"),
        ("http://[::1]:8080/a#x", "http://[::1]:8080/a"),
        ("https://example.it./a", "https://example.it/a"),
    ],
)
def test_canonical_url_drops_tracking_and_noise(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_two_tracking_variants_of_one_story_are_one_url() -> None:
    a = canonical_url("https://www.corriere.it/tecnologia/24_marzo/storia.shtml?utm_source=twitter#x")
    b = canonical_url("https://WWW.corriere.it:443/tecnologia/24_marzo/storia.shtml?refresh_ce&fbclid=123")
    assert a == b == "https://www.corriere.it/tecnologia/24_marzo/storia.shtml"


@pytest.mark.parametrize(
    "raw",
    [
        "javascript:alert(1)",
        "mailto:a@b.it",
        "ftp://example.it/f",
        "file:///etc/passwd",
        "data:text/html,hi",
        "",
        "   ",
        "not a url",
        "http://",
        "https://example.it:99999/a",
        "https://example.it:abc/",
        None,
        42,
    ],
)
def test_canonical_url_refuses_what_is_not_a_web_page(raw: object) -> None:
    assert canonical_url(raw) is None  # type: ignore[arg-type]


def test_site_of() -> None:
    assert site_of("https://www.ilsole24ore.com/art/x") == "ilsole24ore.com"
    assert site_of("https://STARTUPITALIA.eu/feed") == "startupitalia.eu"
    assert site_of("https://www2.example.it/") == "www2.example.it"
    assert site_of("nonsense") == ""
    assert site_of(None) == ""


@given(st.text())
def test_canonical_url_never_raises_on_any_text(raw: str) -> None:
    result = canonical_url(raw)
    assert result is None or result.startswith(("http://", "https://"))


@given(
    st.sampled_from(["http", "https", "HTTPS"]),
    st.from_regex(r"[a-z0-9]{1,10}(\.[a-z]{2,5}){1,2}", fullmatch=True),
    st.from_regex(r"(/[a-zA-Z0-9_%-]{0,8}){0,3}", fullmatch=True),
    st.lists(
        st.tuples(st.sampled_from(["id", "p", "utm_source", "fbclid", "q"]), st.text("abc123", max_size=4))
    ),
)
def test_canonical_url_is_stable(scheme: str, host: str, path: str, params: list[tuple[str, str]]) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"{scheme}://{host}{path}?{query}#frag"
    once = canonical_url(url)
    assert once is not None
    assert canonical_url(once) == once
    assert "utm_source" not in once and "fbclid" not in once and "#" not in once


def test_redact_url_removes_credentials_only() -> None:
    text = "HTTP 500 from https://user:s3cret@feeds.example/rss?x=1 and http://tok@a.example/"
    assert redact_url(text) == "HTTP 500 from https://feeds.example/rss?x=1 and http://a.example/"
    assert redact_url("no url here") == "no url here"
