"""How each report style says things: table titles, labels, numbers, years and sentences.

Two styles, one per reference report (../shared/reference/):
- "2025" (ICT推進・活用計画2025, 令和3年度実績報告): 「令和3年度実績集計表」, labels 達成+,
  half-width numbers, group headings with every ranked count (「…未達成：0施策」).
- "2020" (ICT推進・活用計画2020, 令和元年度実績報告): 「令和元年度における評価別集計表」, labels
  「A評価」, single digits full width (「４施策」, 「令和２年度」) in text and tables alike, 内訳 inside
  the 該当施策 cell, group headings with non-zero counts only (「(2) 区民サービスの向上（A評価：６施策,
  B評価：５施策【終了：２施策】）」).
A sentence is a tuple of runs: plain text, or a Placeholder for what only a person can write
(highlighted in every output, with the facts the writer needs as its help). A sentence the
numbers do not make true is never written: it becomes a placeholder instead.
Everything here is a pure function of the survey and the tally.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from xlsx_tool.define.survey import ENDED, Group, Survey
from xlsx_tool.summarize.tally import (
    DECLINED,
    IMPROVED,
    UNANSWERED,
    UNRANKED,
    Change,
    DirectionRow,
    GroupRow,
    MeasureLine,
    Tally,
)
from xlsx_tool.wareki import fiscal_year_label

_FULL = str.maketrans("0123456789", "０１２３４５６７８９")
REASON = "（理由を記入）"


@dataclass(frozen=True)
class Placeholder:
    """What only a person can write: shown highlighted, `help` beside it (a Word comment)."""

    text: str
    help: str = ""


Run = str | Placeholder
Runs = tuple[Run, ...]


def plain(runs: Sequence[Run]) -> str:
    return "".join(r if isinstance(r, str) else r.text for r in runs)


def merged(*parts: Run | Sequence[Run]) -> Runs:
    """Runs joined, adjacent texts made one (a reader sees one run per piece of text)."""
    out: list[Run] = []
    for part in parts:
        for run in ([part] if isinstance(part, str | Placeholder) else part):
            if isinstance(run, str) and out and isinstance(out[-1], str):
                out[-1] += run
            elif run != "":
                out.append(run)
    return tuple(out)


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

    def count(self, n: int) -> str:
        """「３施策」 / 「24施策」 (2020), 「5施策」 (2025): a count as the report's text and tables write it."""
        return f"{self.num(n)}施策"

    def group_count(self, n: int) -> str:
        """The group table's unit: 「４件」 in the 2020 report, 施策 in the 2025 workbook."""
        return f"{self.num(n)}件" if self.old else f"{n}施策"

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

    def direction_cell(self, d: DirectionRow) -> str:
        """The 2020 report's 該当施策 cell: 「36施策⏎(内訳 A:23 B:13)」, 「０施策」."""
        breakdown = self.breakdown(d)
        return f"{self.count(d.count)}\n(内訳 {breakdown})" if d.count and breakdown else self.count(d.count)

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
        """Counts stay numbers; the 2020 style shows one digit full width (「３施策」, as its text)."""
        return _digit_format("施策") if self.old else '0"施策"'

    @property
    def group_count_format(self) -> str:
        return _digit_format("件") if self.old else '0"施策"'

    @property
    def percent_column(self) -> bool:
        """The 2025 table has 割合 and 計; the 2020 table lists counts only."""
        return not self.old

    @property
    def pie_title(self) -> str:
        return "事業数" if self.old else f"{self.this_year} 評価別の施策数"

    @staticmethod
    def pie_label(value: str, count: int, percent: int) -> str:
        """「【A】, 24施策, 59%」 as the reports label their pie (half width there in both styles)."""
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
            n = self.count(t.count(v))
            if v == UNANSWERED:
                parts.append(f"未回答が{n}")
            elif s.rating_scale.rank(v) is not None:
                parts.append(f"「{definition}」{v}評価が{n}" if definition else f"{v}評価が{n}")
            else:
                parts.append(f"「{definition}」の{v}が{n}" if definition else f"{v}が{n}")
        sentences = [f"現在、{self.short}においては、{t.total}施策を計画化している。{year}における各施策の評価"
                     f"としては、{'、'.join(parts)}という状況であり、これら以外の評価は{self.count(0)}であった。"]
        if t.directions:
            shown = [f"「{d.value}」が{self.count(d.count)}" for d in t.directions if d.count]
            # A measure without a direction (未回答) is not one of 「これら以外」 either: name it.
            unanswered = t.total - sum(d.count for d in t.directions)
            if unanswered:
                shown.append(f"未回答が{self.count(unanswered)}")
            sentences.append(f"また、計画の方向性については、{'、'.join(shown)}であり、"
                             f"これら以外は{self.count(0)}であった。")
        return sentences

    def judgement(self, t: Tally) -> Run:
        """The closing judgement, drafted from the share behind plan (the lowest ranked rating,
        and the unranked ratings other than 終了, such as その他 = 計画中止): at most a tenth
        behind is 「概ね計画どおり」, at most half 「一部の施策に遅れ」. With nothing answered, or
        most of them behind, no judgement the numbers support exists: a placeholder."""
        scale = self.survey.rating_scale
        ranked = [v for v in scale.names if scale.rank(v) is not None]
        lowest = ranked[-1] if len(ranked) > 1 else None
        answered = t.total - len(t.missing)
        behind = sum(r.count for r in t.ratings if r.value == lowest
                     or (r.value not in (UNANSWERED, ENDED) and scale.rank(r.value) is None))
        if not answered or behind * 2 > answered:  # 「一部の施策に遅れ」 is not said of most of them
            counts = "、".join(f"{r.value}：{r.count}施策" for r in t.ratings if r.count)
            return Placeholder("（全体の評価を記入）", f"評価の内訳は {counts} です。数値から判断できないため、"
                                                   "全体の評価を記入してください。")
        if behind * 10 <= answered:
            return "概ね計画どおり実施されており"
        return "一部の施策に遅れが見られるものの取組を進めており"

    def conclusion(self, t: Tally) -> Runs:
        state = self.judgement(t)
        if self.old:
            end = self.survey.plan_end
            if end is None:
                tail: Run = "期間満了までの"
            elif end > self.survey.fiscal_year:
                tail = f"計画期間が満了する{self.year(end)}までに"
            else:  # the period has ended: what follows is the section's to say
                tail = Placeholder("（今後の方針を記入）", f"計画期間は{self.year(end)}までです。"
                                                     "計画期間満了後の方針を記入してください。")
            return merged(f"以上のことから、{self.this_year}末時点において、本{self.short}は", state, "、", tail,
                          "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")
        return merged(f"以上のことから、{self.this_year}末時点において{self.short}は", state,
                      "、期間満了までの各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")

    def group_heading_runs(self, index: int, g: GroupRow, t: Tally) -> Runs:
        group = Group(g.id, g.name)
        scale = self.survey.rating_scale
        # A numbered group without a name would print 「(1) ①」: the name is for the section to give.
        name: Run = Placeholder("（名称を記入）", f"{self.survey.group_label}「{g.id}」に名称がありません。"
                                               "survey.toml の [[groups]] に name を書くと自動で入ります。") \
            if group.ordinal and not group.name else ""
        if not self.old:
            title = group.title(self.survey.group_label)
            counts = "、".join(f"{v}：{g.ratings[v]}施策" for v in self.shown_values(t))
            return merged(f"({index + 1}) {title}", "：" if name else "", name, f"（{counts}）")
        ranked = [f"{v}評価：{self.count(g.ratings[v])}" for v in t.categories
                  if g.ratings.get(v) and scale.rank(v) is not None]
        other = "".join(f"【{v}：{self.count(g.ratings[v])}】" for v in t.categories
                        if g.ratings.get(v) and scale.rank(v) is None)
        counts = ", ".join(ranked) + other
        title = group.id if name else group.display_name
        return merged(f"({index + 1}) {title}", " " if name else "", name, f"（{counts}）" if counts else "")

    def group_heading(self, index: int, g: GroupRow, t: Tally) -> str:
        return plain(self.group_heading_runs(index, g, t))

    def measure_tag(self, number: str, name: str) -> str:
        """「【No.４ 新公会計システムの運用】」 (2020) / 「【No.4 …】」 (2025)."""
        shown = self.num(int(number)) if number.isascii() and number.isdigit() else number
        return f"【No.{shown} {name}】"

    def change_sentences(self, changes: Sequence[Change],
                         about: Callable[[Sequence[Change]], str] = lambda _c: "") -> list[Runs]:
        """One sentence per move (previous → current) of the group and reason, the measures that
        made the same move for the same reason named together as the 2020 report does
        (「また、【No27 …】、【No40 …】、【No41 …】は、…A評価に改善した。」). A move to or from an
        unranked value (その他) is told too; 終了 is not a change to explain. Where a change
        carries its reason it is written in (reason_runs); otherwise 「（理由を記入）」, with
        `about(changes)` (the departments' answers) as its help."""
        # a move's measures are named together only where one reason covers them all, as the
        # report joins No.27, 40 and 41: a different reason (or none) is a sentence of its own
        moves: dict[tuple[str, str, str], dict[str, list[Change]]] = {}
        for c in changes:
            if c.trend in (IMPROVED, DECLINED, UNRANKED) and c.current != ENDED:
                moves.setdefault((c.previous, c.current, c.trend), {}).setdefault(
                    reason_text(c.reason), []).append(c)
        out = []
        sentences = [(move, reason, group) for move, by_reason in moves.items() for reason, group in by_reason.items()]
        for i, ((previous, current, trend_), reason, group) in enumerate(sentences):
            who = "、".join(self.measure_tag(c.measure, c.name) for c in group)
            slot = reason_runs(reason, about(group)) if reason else (Placeholder(REASON, about(group)),)
            before = f"{'また、' if i else ''}{self.previous_year}{self._was(previous)}であった{who}"
            if trend_ == IMPROVED:
                out.append(merged(f"{before}は、", slot, f"{self._now(current)}に改善した。"))
            else:
                out.append(merged(f"{before}が、", slot, f"{self._now(current)}となった。"))
        return out

    def _was(self, value: str) -> str:
        """「平成30年度B評価」 (2020) / 「令和3年度に「達成+」」 (2025: the value quoted, not a compound)."""
        return self.rating_label(value) if self.old else f"に「{value}」"

    def _now(self, value: str) -> str:
        return self.rating_label(value) if self.old else f"「{value}」"

    @property
    def same_as_before(self) -> str:
        return f"{self.previous_year}と比較しても同様の評価であるため、順調に進捗していることが分かる。"

    def unchanged_group(self, lines: Sequence[MeasureLine]) -> bool:
        """「同様の評価であるため、順調に進捗」 holds only when every measure of the group was rated
        last year and this year on the ranked scale, the same both times (a measure 終了 since an
        earlier year aside), and at least one was compared."""
        scale = self.survey.rating_scale
        compared = 0
        for line in lines:
            if line.rating == ENDED and line.measure.ended:
                continue
            if scale.rank(line.rating) is None or line.measure.previous_rating != line.rating:
                return False
            compared += 1
        return compared > 0

    def provisional(self, t: Tally, about: str) -> Runs:
        n = len(t.missing)
        return (Placeholder(f"（暫定の集計：回答のそろっていない{self.count(n)}を「未回答」として含む。"
                            "回収を終えて集計し直すこと）", about),)

    def future(self) -> tuple[Runs, Runs]:
        """「今後の予定」: where the plan period stands, the report's standing sentence, and the
        rest for the section to write (placeholders)."""
        s, short = self.survey, self.short
        start, end, fy = s.plan_start, s.plan_end, s.fiscal_year
        period = f"{short}{s.report_period}"
        standing = ("区における更なるICTの推進・活用を進めるにあたっても、各施策は重要な役割を担っているため、"
                    "引き続き進捗管理を行い、施策の着実な実施を行っていく。") if self.old else \
            ("区における更なるICTの推進・活用を進めるにあたり、各施策は重要な役割を担っているため、"
             "引き続き着実に進捗を図っていく。")
        where: Run
        if end is None or end < fy:
            where = Placeholder("（計画期間を記入）", "survey.toml の [survey] に plan_end（計画期間の最終年度、"
                                                 "西暦）を書くと、計画期間の文が自動で入ります。")
        elif end == fy:
            where = f"{'本' if self.old else ''}{period}は、{self.this_year}をもって計画期間が満了した。"
        elif self.old:
            where = f"本{period}は、{self.year(end)}までを計画期間としているものであり、" \
                    f"残すところあと{self.num(end - fy)}か年となっている。"
        elif start is not None and (start + end) % 2 == 0 and fy + 1 == (start + end) // 2:
            where = f"{self.year(fy + 1)}は{period}の中間年度にあたる。"
        elif fy + 1 == end:
            where = f"{self.year(fy + 1)}は{period}の最終年度にあたる。"
        else:
            where = f"{period}は、{self.year(end)}までを計画期間としており、残すところあと{end - fy}か年となっている。"
        nxt = f"{self.year(end + 1)}以降（次期計画など）" if end is not None else "今後"
        rest = Placeholder("（今後の予定を記入）", f"{nxt}に向けた予定を「また、…」に続けて記入してください。"
                                              "例：次期計画の策定、国や他自治体の動向を踏まえた方向性の検討。")
        return merged(where, standing), merged("また、", rest)


# --- a department's reason in the report's sentence ---------------------------------------------
# 「…は、<reason>ことにより、A評価に改善した。」: a reason ending in a plain predicate (「運用を開始した」)
# takes 「ことにより、」; one ending in 「こと」 takes 「により、」; one that already says why (「…ため」,
# 「…により」, 「…しており」) takes only 「、」, as the reference's 「維持しているため、」 and 「進捗しており、」.
# Anything else (です・ます調, a noun phrase, several sentences) is quoted as the department wrote it and
# highlighted for the writer: a guess at rewriting it would put words in the department's mouth.
_POLITE = re.compile(r"(ます|ました|ません|です|でした|でしょう|ください|ございます)")
_CAUSAL = ("により", "によって", "ため", "ので", "から", "ことで", "おり", "あり", "ず")
_CONTINUING = re.compile(r"(?<!ま)[てで]$")  # 「導入して」「進んで」「…の影響で」, not 「…まで」
_PREDICATE = re.compile(r"(?:[^まで]た|[んい]だ|る|ない|[うすつぬぶむぐ])$")
_SENTENCE_END = "。．."


def reason_text(reason: str) -> str:
    """A reason as the report takes it: whitespace trimmed, lines joined, a trailing 。 (or 、) dropped."""
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    text = "\n".join(lines)
    while text and (text[-1] in _SENTENCE_END + "、，," or text[-1].isspace()):
        text = text[:-1]
    return text


def reason_runs(reason: str, about: str = "") -> Runs:
    """The slot of the change sentence for a reason (reason_text'ed): 「<reason>ことにより、」, or the
    reason quoted and highlighted with why and the departments' answers as its help."""
    why = ""
    if "\n" in reason or "。" in reason:  # not 「.」: 「1.5倍」, 「No.4」
        why = "複数の文のため"
    elif _POLITE.search(reason):
        why = "です・ます調のため"
    elif reason.endswith("こと"):
        return (f"{reason}により、",)
    elif reason.endswith(_CAUSAL) or _CONTINUING.search(reason):
        return (f"{reason}、",)
    elif _PREDICATE.search(reason):
        return (f"{reason}ことにより、",)
    else:
        why = "名詞で終わるなど、文末が「ことにより」に続く形ではないため"
    quoted = reason.replace("\n", "　")
    help_text = (f"所管課の回答した変更理由をそのまま引用しています（{why}）。「…ことにより、」に続く形"
                 "（例：「新システムの運用を開始した」）に書き直し、「」を外してください。")
    return (Placeholder(f"「{quoted}」ことにより", help_text + (f"\n\n{about}" if about else "")), "、")


def _digit_format(unit: str) -> str:
    """Excel number format: one digit full width ([DBNum3] in Japanese), two digits and more half
    width, as the 2020 report writes 「３施策」 and 「24施策」. The count stays a number. The locale
    [$-411] makes LibreOffice apply DBNum3 too (without it LibreOffice shows 「3施策」)."""
    return f'[$-411][<10][DBNum3]0"{unit}";0"{unit}"'
