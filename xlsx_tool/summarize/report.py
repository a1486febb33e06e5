"""The draft report text (報告文案), built from the tallies in the reference report's phrasing."""

from __future__ import annotations

from xlsx_tool.define.master import Master
from xlsx_tool.define.survey import Survey
from xlsx_tool.summarize.tally import TREND_LABEL, UNANSWERED, Tally

_PAREN_NUMBERS = "①②③④⑤⑥⑦⑧⑨⑩"


def shown_values(survey: Survey, t: Tally) -> list[str]:
    """Ranked values always (a 0 is news), unranked ones and 未回答 only when they occur."""
    scale = survey.rating_scale
    return [v for v in t.categories
            if (v != UNANSWERED and scale.rank(v) is not None) or t.count(v)]


def overall_sentence(survey: Survey, t: Tally) -> str:
    parts = "、".join(f"「{v}」が{t.count(v)}施策" for v in shown_values(survey, t))
    return (f"現在、{t.total}施策を計画化しており、{survey.year_label}における各施策の実績としては、"
            f"{parts}であった。")


def group_heading(survey: Survey, t: Tally, index: int) -> str:
    """「(1) 基本方針Ⅰ：業務の改善・効率化（達成+：3施策、達成：8施策、未達成：0施策）」."""
    g = t.groups[index]
    group = survey.group(g.id)
    title = group.title(survey.group_label) if group else g.id
    counts = "、".join(f"{v}：{g.ratings.get(v, 0)}施策" for v in shown_values(survey, t))
    return f"({index + 1}) {title}（{counts}）"


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
            text = str(value).strip() if value not in (None, "") else ""
        if text:
            items.append(text)
    return items


def conclusion(survey: Survey, t: Tally, short: str) -> str:
    """The report's closing judgement, drafted from the share of the lowest ranked rating."""
    ranked = [v for v in survey.rating_scale.names if survey.rating_scale.rank(v) is not None]
    lowest = t.count(ranked[-1]) if len(ranked) > 1 else 0
    answered = t.total - len(t.missing)
    on_track = answered and lowest * 10 <= answered  # at most a tenth behind plan
    state = "概ね計画どおり実施されており" if on_track else "一部の施策に遅れが見られるものの取組を進めており"
    return (f"以上のことから、{survey.year_label}末時点において{short}は{state}、期間満了までの"
            "各施策の着実な実現に向けて、引き続き進捗管理を行っていく。")


def report_lines(survey: Survey, master: Master, t: Tally) -> list[tuple[str, str]]:
    """(style, text) lines: style is "title", "heading", "subheading", "item" or "body"."""
    plan, short = survey.plan, survey.plan_short or survey.plan
    alias = f"（以下、「{short}」という。）" if short != plan else ""
    lines: list[tuple[str, str]] = [
        ("title", f"「{plan}」{survey.year_label}実績報告について"),
        ("body", f"「{plan}」{alias}の各推進施策の{survey.year_label}における取組状況について報告を行う。"),
        ("heading", f"1 {survey.year_label}実績報告概要"),
        ("body", overall_sentence(survey, t)),
        ("body", conclusion(survey, t, short)),
    ]
    if t.missing:
        lines.append(("body", f"（未回答 {len(t.missing)} 施策を含む暫定の集計です。）"))
    lines.append(("heading", f"2 {survey.group_label}に対する{survey.year_label}実績"))
    lines.append(("body", f"{short}に掲げた{survey.group_label}別に各推進施策の{survey.year_label}実績を集計した。"))
    for i, g in enumerate(t.groups):
        lines.append(("subheading", group_heading(survey, t, i)))
        items = achievements(survey, master, t, g.id)
        if items:
            lines.append(("body", "＜主な成果＞"))
            lines += [("item", f"・{text}") for text in items]
        changed = [c for c in t.changes if c.group == g.id]
        if changed:
            lines.append(("body", "＜前年度から評価が変わった施策＞"))
            lines += [("item", f"・No.{c.measure} {c.name}：{c.previous} → {c.current}（{TREND_LABEL[c.trend]}）")
                      for c in changed]
    if t.directions:
        lines.append(("heading", f"3 施策の方向性（{survey.year_label}）"))
        lines += [("item", f"・{d.value}：{d.count}施策" + (f"（{d.breakdown_text()}）" if d.count else ""))
                  for d in t.directions]
    return lines
