"""EUR normalisation with the bundled yearly rates."""

from __future__ import annotations

import pytest

from warehouse.fx import CURRENCIES, FIRST_YEAR, LAST_YEAR, rate_per_eur, to_eur


def test_euro_amounts_stay_as_they_are():
    assert to_eur(15e9, "EUR", 2025) == 15e9
    assert to_eur(15e9, " eur ", None) == 15e9


def test_dollars_use_the_year_average():
    # 2022: about 1.05 USD per EUR; 2008: about 1.47.
    assert to_eur(105.3e6, "USD", 2022) == pytest.approx(100e6, rel=0.01)
    assert to_eur(147e6, "USD", 2008) == pytest.approx(100e6, rel=0.01)
    assert (
        to_eur(100, "JPY", 2024)
        < to_eur(100, "CNY", 2024)
        < to_eur(100, "USD", 2024)
        < to_eur(100, "GBP", 2024)
    )


def test_years_outside_the_table_use_the_nearest_year():
    assert rate_per_eur("USD", 1995) == rate_per_eur("USD", FIRST_YEAR)
    assert rate_per_eur("USD", 2040) == rate_per_eur("USD", LAST_YEAR)
    assert LAST_YEAR >= 2026


def test_unknown_currency_or_missing_amount_gives_none():
    assert to_eur(100, "XYZ", 2024) is None
    assert to_eur(None, "USD", 2024) is None
    assert to_eur(100, None, 2024) is None


def test_every_currency_has_a_rate_for_every_year():
    for code in CURRENCIES:
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            assert rate_per_eur(code, year) > 0, (code, year)
