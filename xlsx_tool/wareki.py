"""Japanese era names for fiscal years (和暦), as printed in the reports."""

from __future__ import annotations

import datetime as dt

# (first calendar year of the era, name); a fiscal year starting in April takes the era
# in force on 1 April of that year. Reiwa began on 1 May 2019, so FY2019 is 令和元年度
# in the office's own usage (reports call FY2019 令和元年度).
_ERAS = ((2019, "令和"), (1989, "平成"), (1926, "昭和"))


def era_year(year: int) -> str:
    """2021 -> 令和3年; the first year of an era is 元年."""
    for start, name in _ERAS:
        if year >= start:
            n = year - start + 1
            return f"{name}{'元' if n == 1 else n}年"
    return f"{year}年"


def fiscal_year_label(year: int) -> str:
    """2021 -> 令和3年度."""
    return era_year(year) + "度"


def fiscal_year_of(day: dt.date) -> int:
    """The fiscal year (April to March) a date falls in."""
    return day.year if day.month >= 4 else day.year - 1
