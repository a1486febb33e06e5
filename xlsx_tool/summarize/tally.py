"""Tallies from the answers: pure functions, no I/O, so they are tested in milliseconds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from xlsx_tool.define.master import Master, Measure, final_values, is_ended
from xlsx_tool.define.survey import Survey

UNANSWERED = "未回答"
IMPROVED, DECLINED, UNRANKED = "improved", "declined", "unranked"
# A move to or from an unranked value (終了, その他) is listed as such and counted as neither.
TREND_LABEL = {IMPROVED: "改善", DECLINED: "低下", UNRANKED: "―"}


def largest_remainder(counts: Sequence[int], total: int = 100) -> list[int]:
    """Whole-number shares of `total` that add up exactly (Hamilton's method).

    Ties in the remainder go to the larger count, then to the earlier row, so the result
    is stable and the biggest category never loses to a small one on a tie.
    """
    n = sum(counts)
    if n == 0:
        return [0 for _ in counts]
    exact = [c * total / n for c in counts]
    shares = [int(e) for e in exact]
    order = sorted(range(len(counts)), key=lambda i: (-(exact[i] - shares[i]), -counts[i], i))
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class RatingRow:
    value: str
    definition: str
    count: int
    percent: int


@dataclass(frozen=True)
class DirectionRow:
    value: str
    count: int
    breakdown: dict[str, int]

    def breakdown_text(self) -> str:
        """「A:23 B:13」 as the report prints it."""
        return " ".join(f"{k}:{v}" for k, v in self.breakdown.items() if v)


@dataclass(frozen=True)
class GroupRow:
    id: str
    name: str
    total: int
    ratings: dict[str, int]


@dataclass(frozen=True)
class Change:
    measure: str
    name: str
    group: str
    previous: str
    current: str
    trend: str
    reason: str = ""  # why it changed, in the department's words (survey.reason_field); "" when not given


@dataclass(frozen=True)
class MeasureLine:
    measure: Measure
    answers: Mapping[str, object]
    rating: str  # the scale value, or 未回答
    change: str  # "improved", "declined" or ""


@dataclass(frozen=True)
class Tally:
    fiscal_year: int
    total: int
    categories: tuple[str, ...]  # rating columns in order (未回答 last when present)
    ratings: tuple[RatingRow, ...]
    directions: tuple[DirectionRow, ...]
    groups: tuple[GroupRow, ...]
    changes: tuple[Change, ...]
    missing: tuple[Measure, ...]
    lines: tuple[MeasureLine, ...] = field(default=())
    invalid: frozenset[str] = frozenset()  # measures answered with an error (要修正)

    def missing_lines(self) -> list[str]:
        """One line per measure without a valid rating: 要修正 (answered, with an error) or 未回答."""
        return [f"[{'要修正' if m.number in self.invalid else '未回答'}] 施策番号 {m.number} {m.name}（{m.department}）"
                for m in self.missing]

    def count(self, value: str) -> int:
        return next((r.count for r in self.ratings if r.value == value), 0)

    def as_json(self, survey: Survey) -> dict:
        return {
            "fiscal_year": self.fiscal_year,
            "total": self.total,
            "ratings": [{"value": r.value, "count": r.count, "percent": r.percent} for r in self.ratings],
            "directions": [{"value": d.value, "count": d.count, "breakdown": {k: v for k, v in d.breakdown.items() if v}}
                           for d in self.directions],
            "groups": [{"id": g.id, "name": g.name, "total": g.total, "ratings": g.ratings} for g in self.groups],
            "changes": [{"measure": c.measure, "name": c.name, "group": c.group, "previous": c.previous,
                         "current": c.current, "trend": c.trend, "reason": c.reason or None}
                        for c in self.changes],
            "missing": [{"measure": m.number, "name": m.name, "department": m.department,
                         "reason": "needs_fix" if m.number in self.invalid else "unanswered"}
                        for m in self.missing],
        }


def trend(survey: Survey, previous: str, current: str) -> str:
    """Improved or declined, only between ranked values (その他 and 終了 are not ranked)."""
    scale = survey.rating_scale
    if previous == current or previous not in scale.names or current not in scale.names:
        return ""
    a, b = scale.rank(previous), scale.rank(current)
    if a is None or b is None:
        return UNRANKED
    return IMPROVED if b < a else DECLINED


def tally(survey: Survey, master: Master, answers: Mapping[str, Mapping[str, object]],
          invalid: AbstractSet[str] = frozenset()) -> Tally:
    """Count the ratings of every measure; a measure without a valid rating is 未回答."""
    scale = survey.rating_scale
    values = list(scale.names)
    lines, missing = [], []
    for m in master.measures:
        # an ended measure is not asked again: 終了 (direction 完了) whatever came back, still counted
        given = final_values(survey, m, answers.get(m.number, {}))
        rating = given.get(survey.rating_field)
        if rating not in values or (m.number in invalid and not is_ended(survey, m)):
            rating = UNANSWERED
            missing.append(m)
        change = trend(survey, m.previous_rating, rating)
        lines.append(MeasureLine(m, given, rating, change))
    categories = tuple(values + ([UNANSWERED] if missing else []))
    counts = [sum(line.rating == v for line in lines) for v in categories]
    percents = largest_remainder(counts)
    ratings = tuple(RatingRow(v, scale.definition(v) if v != UNANSWERED else "回答がない、または修正が必要な施策",
                              c, p) for v, c, p in zip(categories, counts, percents, strict=True))
    directions: tuple[DirectionRow, ...] = ()
    if survey.direction_field and survey.direction_scale is not None:
        by_direction = Counter((line.answers.get(survey.direction_field), line.rating) for line in lines)
        directions = tuple(
            DirectionRow(d, sum(by_direction[(d, v)] for v in categories), {v: by_direction[(d, v)] for v in categories})
            for d in survey.direction_scale.names)
    by_group = Counter((line.measure.group, line.rating) for line in lines)
    groups = tuple(
        GroupRow(g.id, g.name, sum(by_group[(g.id, v)] for v in categories), {v: by_group[(g.id, v)] for v in categories})
        for g in survey.groups)
    changes = tuple(Change(x.measure.number, x.measure.name, x.measure.group, x.measure.previous_rating,
                           x.rating, x.change, _reason(survey, x)) for x in lines if x.change)
    return Tally(survey.fiscal_year, len(lines), categories, ratings, directions, groups, changes,
                 tuple(missing), tuple(lines), frozenset(m.number for m in missing if m.number in invalid))


def _reason(survey: Survey, line: MeasureLine) -> str:
    """The department's reason for the change, as it typed it (the wording normalises it)."""
    value = line.answers.get(survey.reason_field) if survey.reason_field else None
    return value.strip() if isinstance(value, str) else ""
