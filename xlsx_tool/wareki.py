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


_ERA_DAYS = ((dt.date(2019, 5, 1), "令和"), (dt.date(1989, 1, 8), "平成"), (dt.date(1926, 12, 25), "昭和"))


def date_label(day: dt.date) -> str:
    """2026-12-06 -> 令和8年12月6日 (the era by the day: 2019-04-30 is 平成31年), formatted here:
    strftime cannot take 年 on Windows."""
    if isinstance(day, dt.datetime):
        day = day.date()
    for start, name in _ERA_DAYS:
        if day >= start:
            n = day.year - start.year + 1
            return f"{name}{'元' if n == 1 else n}年{day.month}月{day.day}日"
    return f"{day.year}年{day.month}月{day.day}日"


def datetime_label(moment: dt.datetime) -> str:
    """2026-12-06 04:08 -> 令和8年12月6日 4:08."""
    return f"{date_label(moment)} {moment.hour}:{moment.minute:02d}"


# Excel's own 和暦 number format for a date cell (LCID 411, era ggg + era year e): the cell keeps
# a date a person can sort and filter, and shows 令和8年12月6日. LibreOffice prints it the same.
EXCEL_DATE = '[$-411]ggge"年"m"月"d"日"'
EXCEL_DATE_TIME = EXCEL_DATE + '\n' + "h:mm"
