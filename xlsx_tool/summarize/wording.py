"""How each report style says things: table titles, labels, numbers, years and sentences.

Two styles, one per reference report (../shared/reference/):
- "2025" (ICT推進・活用計画2025, 令和3年度実績報告): 「令和3年度実績集計表」, labels 達成+,
  half-width numbers, group headings with every ranked count (「…未達成：0施策」).
- "2020" (ICT推進・活用計画2020, 令和元年度実績報告): 「令和元年度における評価別集計表」, labels
  「A評価」, single digits full width (「４施策」, 「令和２年度」), 内訳 inside the 該当施策 cell, group
  headings with non-zero counts only (「(2) 区民サービスの向上（A評価：６施策, B評価：５施策【終了：２施策】）」).
Everything here is a pure function of the survey and the tally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlsx_tool.define.survey import Group, Survey
from xlsx_tool.summarize.tally import (
    DECLINED,
    IMPROVED,
    UNANSWERED,
    Change,
    DirectionRow,
    GroupRow,
    Tally,
)
from xlsx_tool.wareki import fiscal_year_label

_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
REASON = "（理由を記入）"


@dataclass(frozen=True)
class Wording:
    survey: Survey

    @property
    def style(self) -> str:
        return self.survey.report_style

    @property
    def old(self) -> bool:
        return self.style == "2020"

    # --- numbers and years ----------------------------------------------------------------
    def num(self, n: int) -> str:
        """The 2020 report writes single digits full width (「４施策」) and larger ones half width."""
        return str(n).translate(_FULL) if self.old and 0 <= n < 10 else str(n)

    def year(self, fiscal_year: int) -> str:
        label = fiscal_year_label(fiscal_year)
        return re.sub(r"(?<![0-9])([0-9])(?=年度)", lambda m: self.num(int(m.group(1))), label) if self.old else label

    @property
    def this_year(self) -> str:
        return self.year(self.survey.fiscal_year)

    @property
    def previous_year(self) -> str:
        return self.year(self.survey.fiscal_year - 1)

    @property
    def short(self) -> str:
        return self.survey.plan_short or ("推進計画" if self.old else self.survey.plan)

    # --- labels -----------------------------------------------------------------------------
    def rating_label(self, value: str) -> str:
        """「A評価」 in the 2020 tables for ranked values; その他, 終了 and 未回答 as they are."""
        ranked = self.survey.rating_scale.rank(value) is not None
        return f"{value}評価" if self.old and ranked else value

    def group_label(self, g: GroupRow | Group) -> str:
        """The group as a table row names it: 「① 開かれた区政の実現」 or 「Ⅰ」."""
        group = Group(g.id, g.name)
        if not group.ordinal:
            return group.id
        return f"{group.id} {group.name}" if self.old and group.name else group.id

    def breakdown(self, d: DirectionRow) -> str:
        """「A:23 B:13」 (2020: 「A:１ 終了:３」) as the 内訳 of a direction."""
        return " ".join(f"{k}:{self.num(v)}" for k, v in d.breakdown.items() if v)

    @property
    def rating_table_title(self) -> str:
        return f"{self.this_year}における評価別集計表" if self.old else f"{self.this_year}実績集計表"

    @property
    def direction_table_title(self) -> str:
        return f"{self.this_year}における方向性別集計表"

    @property
    def group_table_title(self) -> str:
        label = self.survey.group_label
        return f"{label}別評価別件数（{self.this_year}）"

    @property
    def count_format(self) -> str:
        return '0"施策"'

    @property
    def group_count_format(self) -> str:
        return '0"件"' if self.old else '0"施策"'

    @property
    def percent_column(self) -> bool:
        """The 2025 table has 割合 and 計; the 2020 table lists counts only."""
        return not self.old

    @property
    def pie_title(self) -> str:
        return "事業数" if self.old else f"{self.this_year} 評価別の施策数"

    @staticmethod
    def pie_label(value: str, count: int, percent: int) -> str:
        """「【A】, 24施策, 59%」 as the reports label their pie."""
        return f"【{value}】, {count}施策, {percent}%"

    # --- sentences --------------------------------------------------------------------------
    def shown_values(self, t: Tally) -> list[str]:
        """2025: ranked values always (a 0 is news), others when they occur; 2020: non-zero only."""
        scale = self.survey.rating_scale
        if self.old:
            return [v for v in t.categories if t.count(v)]
        return [v for v in t.categories if (v != UNANSWERED and scale.rank(v) is not None) or t.count(v)]

    def overall(self, t: Tally) -> list[str]:
        s, year = self.survey, self.this_year
        if not self.old:
            listed = "、".join(f"「{v}」が{t.count(v)}施策" for v in self.shown_values(t))
            return [f"現在、{t.total}施策を計画化しており、{year}における各施策の実績としては、{listed}であった。"]
        parts: list[str] = []
        for v in self.shown_values(t):
            definition = s.rating_scale.definition(v)
            n = self.num(t.count(v))
            if v == UNANSWERED:
                parts.append(f"未回答が{n}施策")
            elif s.rating_scale.rank(v) is not None:
                parts.append(f"「{definition}」{v}評価が{n}施策" if definition else f"{v}評価が{n}施策")
            else:
                parts.append(f"「{definition}」の{v}が{n}施策" if definition else f"{v}が{n}施策")
        sentences = [f"現在、{self.short}においては、{t.total}施策を計画化している。{year}における各施策の評価"
                     f"としては、{'、'.join(parts)}という状況であり、これら以外の評価は{self.num(0)}施策であった。"]
        if t.directions:
            rows = [d for d in t.directions if d.count]
            shown = "、".join(f"「{d.value}」が{self.num(d.count)}施策" for d in rows)
            sentences.append(f"また、計画の方向性については、{shown}であり、これら以外は{self.num(0)}施策であった。")
        return sentences

    def conclusion(self, t: Tally) -> str:
        """The closing judgement, drafted from the share of the lowest ranked rating."""
        scale = self.survey.rating_scale
        ranked = [v for v in scale.names if scale.rank(v) is not None]
        lowest = t.count(ranked[-1]) if len(ranked) > 1 else 0
        answered = t.total - len(t.missing)
        on_track = bool(answered) and lowest * 10 <= answered  # at most a tenth behind plan
        state = "概ね計画どおり実施されており" if on_track else "一部の施策に遅れが見られるものの取組を進めており"
        if self.old:
            end = (f"計画期間が満了する{self.year(self.survey.plan_end)}までに"
                   if self.survey.plan_end else "期間満了までの")
            return (f"以上のことから、{self.this_year}末時点において、本{self.short}は{state}、{end}"
                    "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")
        return (f"以上のことから、{self.this_year}末時点において{self.short}は{state}、期間満了までの"
                "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")

    def group_heading(self, index: int, g: GroupRow, t: Tally) -> str:
        group = Group(g.id, g.name)
        scale = self.survey.rating_scale
        if not self.old:
            title = group.title(self.survey.group_label)
            counts = "、".join(f"{v}：{g.ratings[v]}施策" for v in self.shown_values(t))
            return f"({index + 1}) {title}（{counts}）"
        ranked = [f"{v}評価：{self.num(g.ratings[v])}施策" for v in t.categories
                  if g.ratings.get(v) and scale.rank(v) is not None]
        other = "".join(f"【{v}：{self.num(g.ratings[v])}施策】" for v in t.categories
                        if g.ratings.get(v) and scale.rank(v) is None)
        counts = ", ".join(ranked) + other
        return f"({index + 1}) {group.display_name}" + (f"（{counts}）" if counts else "")

    def change_sentences(self, changes: list[Change], has_previous: bool) -> list[str]:
        """Skeletons for the section to complete, one per ranked change of the group."""
        ranked = [c for c in changes if c.trend in (IMPROVED, DECLINED)]
        if not ranked:
            return [f"{self.previous_year}と比較しても同様の評価であるため、順調に進捗していることが分かる。"] \
                if has_previous and self.old else []
        out = []
        for c in ranked:
            who = f"【No.{c.measure} {c.name}】"
            before = f"{self.previous_year}{self.rating_label(c.previous)}であった{who}"
            if c.trend == IMPROVED:
                out.append(f"{before}は、{REASON}{self.rating_label(c.current)}に改善した。")
            else:
                out.append(f"{before}が、{REASON}{self.rating_label(c.current)}となった。")
        return out
