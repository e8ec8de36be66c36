"""Amounts normalised to EUR with a small bundled table of yearly average exchange rates.

Source: approximate yearly averages of the ECB euro foreign exchange reference rates (units of the foreign
currency per 1 EUR), rounded; 2025 and 2026 are estimates from the rates seen so far. Good enough to rank and
sum deals ("about 15 billion euro"), not for accounting. A year outside 2000-2026 uses the nearest year in the
table; an unknown currency gives None (the amount stays stored in its own currency).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)

FIRST_YEAR = 2000
# Units of currency per 1 EUR, one value per year from FIRST_YEAR.
# fmt: off
_PER_EUR: dict[str, tuple[float, ...]] = {
    "USD": (
        0.924, 0.896, 0.946, 1.131, 1.244, 1.244, 1.256, 1.371, 1.471, 1.395,
        1.326, 1.392, 1.285, 1.328, 1.329, 1.11, 1.107, 1.13, 1.181, 1.12,
        1.142, 1.183, 1.053, 1.081, 1.082, 1.13, 1.16,
    ),
    "GBP": (
        0.61, 0.622, 0.629, 0.692, 0.679, 0.684, 0.682, 0.684, 0.796, 0.891,
        0.858, 0.868, 0.811, 0.849, 0.806, 0.726, 0.82, 0.877, 0.885, 0.878,
        0.89, 0.86, 0.853, 0.87, 0.847, 0.856, 0.87,
    ),
    "CHF": (
        1.558, 1.511, 1.467, 1.521, 1.544, 1.548, 1.573, 1.643, 1.587, 1.51,
        1.38, 1.233, 1.205, 1.231, 1.215, 1.068, 1.09, 1.112, 1.155, 1.112,
        1.071, 1.081, 1.005, 0.972, 0.953, 0.94, 0.93,
    ),
    "JPY": (
        99.5, 108.7, 118.1, 131, 134.4, 136.9, 146, 161.3, 152.5, 130.3,
        116.2, 111, 102.5, 129.7, 140.3, 134.3, 120.2, 126.7, 130.4, 122,
        121.8, 129.9, 138, 152, 163.9, 169, 175,
    ),
    "CNY": (
        7.62, 7.41, 7.83, 9.36, 10.3, 10.2, 10.01, 10.42, 10.22, 9.53,
        8.97, 9, 8.11, 8.16, 8.19, 6.97, 7.35, 7.63, 7.81, 7.74,
        7.87, 7.63, 7.08, 7.66, 7.79, 8.1, 8.2,
    ),
    "SEK": (
        8.45, 9.26, 9.16, 9.12, 9.12, 9.28, 9.25, 9.25, 9.62, 10.62,
        9.54, 9.03, 8.7, 8.65, 9.1, 9.35, 9.47, 9.64, 10.26, 10.59,
        10.48, 10.15, 10.63, 11.48, 11.43, 11.1, 11,
    ),
    "INR": (
        41.6, 42.1, 45.9, 52.1, 56.3, 54.9, 56.8, 56.4, 63.6, 67.4,
        60.6, 64.9, 68.6, 77.9, 81, 71.2, 74.4, 73.5, 80.7, 78.8,
        84.6, 87.4, 82.7, 89.3, 90.6, 97, 100,
    ),
}
# fmt: on
LAST_YEAR = FIRST_YEAR + len(_PER_EUR["USD"]) - 1
CURRENCIES = frozenset({"EUR", *_PER_EUR})


def rate_per_eur(currency: str, year: int) -> float | None:
    """Units of `currency` per 1 EUR in `year` (nearest table year outside the range), or None if unknown."""
    code = currency.strip().upper()
    if code == "EUR":
        return 1.0
    rates = _PER_EUR.get(code)
    if rates is None:
        return None
    index = min(max(year, FIRST_YEAR), LAST_YEAR) - FIRST_YEAR
    return rates[index]


def to_eur(amount: float | None, currency: str | None, year: int | None) -> float | None:
    """`amount` in `currency` converted to EUR at `year`'s average rate; None when it cannot be converted."""
    if amount is None or currency is None:
        return None
    rate = rate_per_eur(currency, year if year is not None else LAST_YEAR)
    if rate is None:
        log.debug("no EUR rate for currency %r; amount_eur left empty", currency)
        return None
    return round(amount / rate, 2)
