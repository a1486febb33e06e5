"""The report model: the published report (実績報告) as sections of paragraphs, tables and a chart.

One model feeds the 報告文案 sheet (summarize/workbook.py), `summarize --json` (`report`) and
the Word document (summarize/document.py), so the three never disagree. It follows the
reference report of the survey's style section by section (../shared/reference/): what the
numbers, the master and the years determine is written out word for word; what only the
section knows (why a rating changed, a group's narrative, the plans ahead) is a Placeholder
whose help holds what the writer needs from the departments' own answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from xlsx_tool import problems as P
from xlsx_tool.define.master import Loaded, Master
from xlsx_tool.define.survey import ENDED, Survey
from xlsx_tool.problems import Problem
from xlsx_tool.summarize.tally import UNANSWERED, Change, GroupRow, MeasureLine, Tally
from xlsx_tool.summarize.wording import Placeholder, Runs, Wording, merged, plain

__all__ = ["Chart", "HeaderCell", "Paragraph", "Placeholder", "Report", "Section", "Table", "build",
           "achievements", "check_report"]


@dataclass(frozen=True)
class Paragraph:
    runs: Runs
    style: str = "body"  # body | item (a 主な成果 entry) | label (＜主な成果＞) | caption (a table's title)

    @property
    def text(self) -> str:
        return plain(self.runs)

    @property
    def placeholders(self) -> list[Placeholder]:
        return [r for r in self.runs if isinstance(r, Placeholder)]

    def as_json(self) -> dict:
        return {"type": "paragraph", "style": self.style, "text": self.text,
                "placeholders": [{"text": p.text, "help": p.help} for p in self.placeholders]}


@dataclass(frozen=True)
class HeaderCell:
    text: str
    span: int = 1  # columns
    rows: int = 1  # header rows it covers


@dataclass(frozen=True)
class Table:
    caption: str  # the title printed above it ("" where the report prints none)
    header: tuple[tuple[HeaderCell, ...], ...]
    rows: tuple[tuple[str, ...], ...]  # cells as the report prints them (「24施策」, 「(内訳 A:23 B:13)」)
    widths: tuple[float, ...]  # millimetres, summing to at most the A4 text width
    align: tuple[str, ...]  # per column: "left", "center" or "right"
    totals: int = 0  # the last rows that are totals (計, 合計)

    @property
    def columns(self) -> int:
        return len(self.widths)

    def as_json(self) -> dict:
        return {"type": "table", "caption": self.caption,
                "header": [[{"text": c.text, "span": c.span, "rows": c.rows} for c in row] for row in self.header],
                "rows": [list(r) for r in self.rows]}


@dataclass(frozen=True)
class Chart:
    """The pie of the rating shares, labelled like the report (「【A】, 24施策, 59%」)."""

    title: str
    values: tuple[str, ...]  # the rating scale's values (categories)
    counts: tuple[int, ...]
    percents: tuple[int, ...]
    labels: tuple[str, ...]  # "" for a zero share: no label, as the report

    def as_json(self) -> dict:
        return {"type": "chart", "kind": "pie", "title": self.title,
                "points": [{"value": v, "count": c, "percent": p, "label": label}
                           for v, c, p, label in zip(self.values, self.counts, self.percents, self.labels, strict=True)]}


Block = Paragraph | Table | Chart


@dataclass(frozen=True)
class Section:
    heading: Paragraph | None
    level: int  # 0 the title, 1 a numbered section (「1 …」), 2 a sub-heading (「(1) …」, 集計結果)
    blocks: tuple[Block, ...] = ()

    def placeholders(self) -> list[Placeholder]:
        found = self.heading.placeholders if self.heading else []
        for b in self.blocks:
            if isinstance(b, Paragraph):
                found = found + b.placeholders
        return found

    def as_json(self) -> dict:
        return {"heading": self.heading.text if self.heading else None, "level": self.level,
                "placeholders": [{"text": p.text, "help": p.help} for p in self.placeholders()],
                "content": [b.as_json() for b in self.blocks]}


@dataclass(frozen=True)
class Report:
    style: str
    title: str
    sections: tuple[Section, ...] = field(default=())

    def placeholders(self) -> list[Placeholder]:
        return [p for s in self.sections for p in s.placeholders()]

    def as_json(self) -> list[dict]:
        return [s.as_json() for s in self.sections]


# --- building -------------------------------------------------------------------------------

def build(survey: Survey, master: Master, t: Tally) -> Report:
    return _Builder(survey, master, t).report()


def achievements(survey: Survey, master: Master, t: Tally, group_id: str) -> list[str]:
    """主な成果 of a group: the master's column (the section's choice), else the form field."""
    items = []
    by_number = {line.measure.number: line for line in t.lines}
    for m in master.measures:
        if m.group != group_id:
            continue
        text = m.achievement
        if not text and survey.achievement_field:
            value = by_number[m.number].answers.get(survey.achievement_field)
            text = "" if value is None else str(value).strip()
        if text:
            items.append(text)
    return items


def lists_achievements(survey: Survey) -> bool:
    """The 2025 report lists ＜主な成果＞ under every group (a placeholder when none is known);
    the 2020 report only where the master names some."""
    return not Wording(survey).old


def check_report(loaded: Loaded) -> list[Problem]:
    """What `check` says about the report to come: a group whose ＜主な成果＞ will be a placeholder."""
    survey, master = loaded.survey, loaded.master
    if not lists_achievements(survey) or survey.achievement_field:
        return []  # entries from the forms are known only after collect
    found = []
    for g in survey.groups:
        measures = [m for m in master.measures if m.group == g.id]
        if measures and not any(m.achievement for m in measures):
            found.append(P.make("achievements-empty", file=master.file, value=g.title(survey.group_label)))
    return found


class _Builder:
    def __init__(self, survey: Survey, master: Master, t: Tally):
        self.s, self.master, self.t = survey, master, t
        self.w = Wording(survey)
        self.text_fields = [f.name for f in survey.fields if f.type == "text"]

    # --- help for the writer ----------------------------------------------------------------
    def note(self, line: MeasureLine) -> str:
        """One measure as the writer needs it: name, department, rating, its text answers."""
        m, w = line.measure, self.w
        rating = w.rating_label(line.rating)
        if m.previous_rating and m.previous_rating != line.rating:
            rating = f"{w.rating_label(m.previous_rating)} → {rating}"
        out = [f"No.{m.number} {m.name}（{m.department}）【{rating}】"]
        for name in self.text_fields:
            value = line.answers.get(name)
            if value not in (None, ""):
                out.append(f"{name}：{value}")
        return "\n".join(out)

    def notes(self, lines: Sequence[MeasureLine]) -> str:
        return "\n\n".join(self.note(x) for x in lines)

    def lines_of(self, numbers: Sequence[str]) -> list[MeasureLine]:
        wanted = set(numbers)
        return [x for x in self.t.lines if x.measure.number in wanted]

    def about_changes(self, changes: Sequence[Change]) -> str:
        return "各課の回答（理由は「…ことにより、」の形で）：\n\n" + self.notes(self.lines_of([c.measure for c in changes]))

    def ranked_ends(self, lines: Sequence[MeasureLine]) -> tuple[list[MeasureLine], list[MeasureLine]]:
        """The measures rated highest and lowest in `lines` (on the ranked scale)."""
        scale = self.s.rating_scale
        ranks = sorted({r for x in lines if (r := scale.rank(x.rating)) is not None})
        if not ranks:
            return [], []
        top = [x for x in lines if scale.rank(x.rating) == ranks[0]]
        bottom = [x for x in lines if scale.rank(x.rating) == ranks[-1]] if len(ranks) > 1 else []
        return top, bottom

    # --- pieces -----------------------------------------------------------------------------
    def provisional(self) -> list[Paragraph]:
        if not self.t.missing:
            return []
        return [Paragraph(self.w.provisional(self.t, "\n".join(self.t.missing_lines())))]

    def rating_table(self) -> Table:
        w, t = self.w, self.t
        rows = [(w.rating_label(r.value), r.definition, w.count(r.count)) + ((f"{r.percent}%",) if w.percent_column else ())
                for r in t.ratings]
        if w.percent_column:
            rows.append(("計", "", w.count(t.total), f"{sum(r.percent for r in t.ratings)}%"))
            return Table(w.rating_table_title, ((HeaderCell("施策の評価"), HeaderCell("評価の内容"), HeaderCell("該当施策"),
                                                 HeaderCell("割合")),),
                         tuple(rows), (22.0, 98.0, 22.0, 18.0), ("center", "left", "right", "right"), totals=1)
        return Table(w.rating_table_title, ((HeaderCell("施策の評価"), HeaderCell("評価の内容"), HeaderCell("該当施策")),),
                     tuple(rows), (24.0, 108.0, 28.0), ("center", "left", "right"))

    def direction_table(self) -> Table:
        w, t = self.w, self.t
        rows = [(d.value, w.direction_cell(d) if w.old else f"{w.count(d.count)}（内訳 {w.breakdown(d)}）"
                 if d.count and w.breakdown(d) else w.count(d.count)) for d in t.directions]
        totals = 0
        if not w.old:
            rows.append(("計", w.count(sum(d.count for d in t.directions))))
            totals = 1
        return Table(w.direction_table_title, ((HeaderCell("施策の方向性"), HeaderCell("該当施策")),), tuple(rows),
                     (50.0, 60.0), ("center", "center"), totals=totals)

    def group_table(self) -> Table:
        w, t, s = self.w, self.t, self.s
        cats = list(t.categories)
        header = ((HeaderCell(s.group_label, rows=2), HeaderCell("評価別件数", span=1 + len(cats))),
                  (HeaderCell("計"), *(HeaderCell(v) for v in cats)))
        rows = [(w.group_label(g), w.group_count(g.total), *(w.group_count(g.ratings.get(v, 0)) for v in cats))
                for g in t.groups]
        rows.append(("合  計", w.group_count(sum(g.total for g in t.groups)),
                     *(w.group_count(sum(g.ratings.get(v, 0) for g in t.groups)) for v in cats)))
        first = 52.0
        rest = (160.0 - first) / (1 + len(cats))
        return Table("", header, tuple(rows), (first, *[rest] * (1 + len(cats))),
                     ("left", *["right"] * (1 + len(cats))), totals=1)

    def chart(self) -> Chart:
        t, w = self.t, self.w
        return Chart(w.pie_title, tuple(r.value for r in t.ratings), tuple(r.count for r in t.ratings),
                     tuple(r.percent for r in t.ratings),
                     tuple(w.pie_label(r.value, r.count, r.percent) if r.count else "" for r in t.ratings))

    def tables(self) -> list[Block]:
        blocks: list[Block] = [Paragraph((self.w.rating_table_title,), "caption"), self.rating_table()]
        if self.t.directions:
            blocks += [Paragraph((self.w.direction_table_title,), "caption"), self.direction_table()]
        return blocks

    def group_lines(self, g: GroupRow) -> list[MeasureLine]:
        return [x for x in self.t.lines if x.measure.group == g.id]

    def group_blocks(self, g: GroupRow) -> list[Block]:
        w, s = self.w, self.s
        lines = self.group_lines(g)
        changes = [c for c in self.t.changes if c.group == g.id]
        blocks: list[Block] = [Paragraph(r) for r in w.change_sentences(changes, self.about_changes)]
        explained = {c.measure for c in changes if c.current != ENDED}
        if w.old:
            if not blocks and w.unchanged_group(lines):
                blocks.append(Paragraph((w.same_as_before,)))
            else:
                rest = [x for x in lines if x.measure.number not in explained and not (x.rating == ENDED and x.measure.ended)
                        and (x.rating == UNANSWERED or not x.measure.previous_rating)]
                if rest or not blocks:
                    blocks.append(Paragraph((self.group_placeholder(g, lines, rest),)))
        else:
            top, bottom = self.ranked_ends(lines)
            changed = self.lines_of(sorted(explained))
            help_parts = []
            if top:
                help_parts.append(f"■ 評価が最も高い施策（{w.rating_label(top[0].rating)}）\n\n{self.notes(top)}")
            if bottom:
                help_parts.append(f"■ 評価が最も低い施策（{w.rating_label(bottom[0].rating)}）\n\n{self.notes(bottom)}")
            if changed:
                help_parts.append(f"■ 前年度から評価が変わった施策\n\n{self.notes(changed)}")
            if not help_parts:
                help_parts.append(self.notes(lines) or "この基本方針には施策がありません。")
            blocks.append(Paragraph((Placeholder("（取組の概要を記入）", "各課の回答から：\n\n" + "\n\n".join(help_parts)),)))
        items = achievements(s, self.master, self.t, g.id)
        if items or lists_achievements(s):
            blocks.append(Paragraph(("＜主な成果＞",), "label"))
            if items:
                blocks += [Paragraph((f"・{text}",), "item") for text in items]
            else:
                top, _ = self.ranked_ends(lines)
                blocks.append(Paragraph(merged("・", Placeholder(
                    "（主な成果を記入）", "施策マスタの「主な成果」列が空です（init --from の後など）。評価が最も高い施策：\n\n"
                    + (self.notes(top) or "（評価のある施策がありません）"))), "item"))
        return blocks

    def group_placeholder(self, g: GroupRow, lines: Sequence[MeasureLine], rest: Sequence[MeasureLine]) -> Placeholder:
        """The 2020 group text where no sentence the numbers make true exists: measures new this
        year (no previous rating), unanswered ones, a group of 終了 only or of none."""
        parts = []
        new = [x for x in rest if x.rating != UNANSWERED]
        missing = [x for x in rest if x.rating == UNANSWERED]
        ended = [x for x in lines if x.rating == ENDED and x.measure.ended]
        if new:
            parts.append(f"■ 前年度の評価がない施策（比較できません）\n\n{self.notes(new)}")
        if missing:
            parts.append(f"■ 評価が未回答の施策\n\n{self.notes(missing)}")
        if ended and len(ended) == len(lines):
            parts.append("この基本目標の施策は、いずれも前年度以前に方向性を「完了」とした施策（終了）です。")
        if not lines:
            parts.append("この基本目標には施策がありません。")
        return Placeholder("（実施結果を記入）", "\n\n".join(parts) or self.notes(lines))

    def groups(self) -> list[Section]:
        out = []
        for i, g in enumerate(self.t.groups):
            out.append(Section(Paragraph(self.w.group_heading_runs(i, g, self.t), "heading"), 2,
                               tuple(self.group_blocks(g))))
        return out

    def future(self, heading: str) -> Section:
        where, rest = self.w.future()
        return Section(Paragraph((heading,), "heading"), 1, (Paragraph(where), Paragraph(rest)))

    # --- the two styles ---------------------------------------------------------------------
    def report(self) -> Report:
        return self.report_2020() if self.w.old else self.report_2025()

    def report_2025(self) -> Report:
        s, w, t = self.s, self.w, self.t
        plan, short, year = s.plan, w.short, w.this_year
        alias = f"（以下、「{short}」という。）" if short != plan else ""
        title = f"「{plan}」{year}実績報告について"
        sections = [
            Section(Paragraph((title,), "heading"), 0, (
                Paragraph((f"「{plan}」{alias}の各推進施策の{year}における取組状況について報告を行う。",)),)),
            Section(Paragraph((f"1 {year}実績報告概要",), "heading"), 1, (
                *[Paragraph((x,)) for x in w.overall(t)], Paragraph(w.conclusion(t)), *self.provisional())),
            Section(Paragraph(("集計結果",), "heading"), 2, tuple(self.tables())),
            Section(Paragraph((f"2 {s.group_label}に対する{year}実績",), "heading"), 1, (
                Paragraph((f"{short}に掲げた{s.group_label}別に各推進施策の{year}実績を集計した。",)),)),
            *self.groups(),
            self.future("3 今後の予定"),
        ]
        return Report("2025", title, tuple(sections))

    def report_2020(self) -> Report:
        s, w, t = self.s, self.w, self.t
        plan, short, year = s.plan, w.short, w.this_year
        title = f"「{plan}」における{year}実績報告について"
        overview: list[Block] = [*[Paragraph((x,)) for x in w.overall(t)], Paragraph(w.conclusion(t)),
                                 *self.provisional(), *self.tables(), self.chart()]
        sections = [
            Section(Paragraph((title,), "heading"), 0),
            Section(Paragraph((f"{w.num(1)} 実績報告の趣旨",), "heading"), 1, (
                Paragraph((f"「{plan}」（以下、「{short}」という。）では、推進施策の着実な進捗状況確認を行うため、"
                           f"各推進施策の取組状況について年{w.num(1)}回調査を実施し、その結果をホームページ上で公開する"
                           "こととなっている。",)),
                Paragraph((f"{year}における各推進施策の取組状況について調査が完了したため、報告を行う。",)))),
            Section(Paragraph((f"{w.num(2)} 全体評価",), "heading"), 1, tuple(overview)),
            Section(Paragraph((f"{w.num(3)} 各{s.group_label}別の実施結果",), "heading"), 1),
            *self.groups(),
            self.future(f"{w.num(4)} 今後の予定"),
            Section(None, 1, (self.group_table(),)),
        ]
        return Report("2020", title, tuple(sections))
