"""The draft report text (報告文案), built from the tallies in the reference report's phrasing.

The sentences that follow from the numbers are written out; what only the section knows
(why a rating changed, the plans ahead) is left as a marked skeleton to complete.
"""

from __future__ import annotations

from xlsx_tool.define.master import Master
from xlsx_tool.define.survey import Survey
from xlsx_tool.summarize.tally import Tally
from xlsx_tool.summarize.wording import Wording

Line = tuple[str, str]  # (style, text): "title", "heading", "subheading", "item" or "body"


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


def report_lines(survey: Survey, master: Master, t: Tally) -> list[Line]:
    w = Wording(survey)
    return _lines_2020(survey, master, t, w) if w.old else _lines_2025(survey, master, t, w)


def _has_previous(master: Master) -> bool:
    return any(m.previous_rating for m in master.measures)


def _groups(survey: Survey, master: Master, t: Tally, w: Wording) -> list[Line]:
    lines: list[Line] = []
    previous = _has_previous(master)
    for i, g in enumerate(t.groups):
        lines.append(("subheading", w.group_heading(i, g, t)))
        lines += [("body", s) for s in w.change_sentences([c for c in t.changes if c.group == g.id], previous)]
        items = achievements(survey, master, t, g.id)
        if items:
            lines.append(("body", "＜主な成果＞"))
            lines += [("item", f"・{text}") for text in items]
    return lines


def _provisional(t: Tally) -> list[Line]:
    return [("body", f"（回答のそろっていない {len(t.missing)} 施策を「未回答」として含む暫定の集計です。）")] \
        if t.missing else []


def _lines_2025(survey: Survey, master: Master, t: Tally, w: Wording) -> list[Line]:
    plan, short, year = survey.plan, w.short, w.this_year
    alias = f"（以下、「{short}」という。）" if short != plan else ""
    lines: list[Line] = [
        ("title", f"「{plan}」{year}実績報告について"),
        ("body", f"「{plan}」{alias}の各推進施策の{year}における取組状況について報告を行う。"),
        ("heading", f"1 {year}実績報告概要"),
        *[("body", s) for s in w.overall(t)],
        ("body", w.conclusion(t)),
        *_provisional(t),
        ("body", f"集計結果：{w.rating_table_title}（「評価別集計表」シート）"),
        ("heading", f"2 {survey.group_label}に対する{year}実績"),
        ("body", f"{short}に掲げた{survey.group_label}別に各推進施策の{year}実績を集計した。"),
    ]
    return lines + _groups(survey, master, t, w)


def _lines_2020(survey: Survey, master: Master, t: Tally, w: Wording) -> list[Line]:
    plan, short, year = survey.plan, w.short, w.this_year
    lines: list[Line] = [
        ("title", f"「{plan}」における{year}実績報告について"),
        ("heading", f"{w.num(1)} 実績報告の趣旨"),
        ("body", f"「{plan}」（以下、「{short}」という。）では、推進施策の着実な進捗状況確認を行うため、"
                 f"各推進施策の取組状況について年{w.num(1)}回調査を実施し、その結果を公開することとなっている。"),
        ("body", f"{year}における各推進施策の取組状況について調査が完了したため、報告を行う。"),
        ("heading", f"{w.num(2)} 全体評価"),
        *[("body", s) for s in w.overall(t)],
        ("body", w.conclusion(t)),
        *_provisional(t),
        ("body", f"集計結果：{w.rating_table_title}、{w.direction_table_title}（各シート）"
         if t.directions else f"集計結果：{w.rating_table_title}（「評価別集計表」シート）"),
        ("heading", f"{w.num(3)} 各{survey.group_label}別の実施結果"),
    ]
    return lines + _groups(survey, master, t, w)
