"""和暦 as the reports print it: fiscal years across the era boundaries, 元年, April to March."""

from __future__ import annotations

import datetime as dt

import pytest

from xlsx_tool.wareki import era_year, fiscal_year_label, fiscal_year_of


@pytest.mark.parametrize(("year", "label"), [
    (2025, "令和7年度"),
    (2020, "令和2年度"),
    (2019, "令和元年度"),  # the 2020-style reference report's year
    (2018, "平成30年度"),  # ... which compares itself with this one
    (1990, "平成2年度"),
    (1989, "平成元年度"),
    (1988, "昭和63年度"),
    (1926, "昭和元年度"),
    (1925, "1925年度"),  # before the eras we know: the western year, never a negative era year
])
def test_fiscal_year_labels(year, label):
    assert fiscal_year_label(year) == label
    assert era_year(year) == label[:-1]


@pytest.mark.parametrize(("day", "year"), [
    (dt.date(2026, 3, 31), 2025),
    (dt.date(2026, 4, 1), 2026),
    (dt.date(2026, 12, 31), 2026),
    (dt.date(2027, 1, 1), 2026),
])
def test_fiscal_year_runs_april_to_march(day, year):
    assert fiscal_year_of(day) == year


@pytest.mark.parametrize(("moment", "label"), [
    (dt.datetime(2026, 12, 6, 4, 8), "令和8年12月6日 4:08"),  # no zero padding, as every other date
    (dt.datetime(2019, 5, 1, 0, 0), "令和元年5月1日 0:00"),
    (dt.datetime(2019, 4, 30, 23, 59), "平成31年4月30日 23:59"),  # the era changes on a day, not a year
    (dt.datetime(1989, 1, 7, 12, 0), "昭和64年1月7日 12:00"),
    (dt.datetime(1989, 1, 8, 12, 0), "平成元年1月8日 12:00"),
])
def test_date_and_time_labels(moment, label):
    from xlsx_tool.wareki import datetime_label

    assert datetime_label(moment) == label
