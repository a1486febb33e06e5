"""Year after year: next year's survey started from last year's folder (`init --from`).

Last year's final answers (the ledger's snapshot, which must belong to its current master)
become 前年度評価 and 前年度方向性 of the carried master; a measure whose direction was 完了 is
therefore 終了 next year without any hand edit. Each carried row keeps last year's number in
前年度施策番号, so a measure renumbered later still links to its past, and `check` reports
measures of last year that the new master no longer has.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.define import survey as S
from xlsx_tool.define.folder import point_file, prepared, remove_made
from xlsx_tool.define.master import Loaded, Measure, is_ended, load
from xlsx_tool.errors import SurveyError, ToolError
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.ledger import CurrentAnswers, current_answers
from xlsx_tool.problems import Problem
from xlsx_tool.textnorm import clip, measure_key
from xlsx_tool.wareki import fiscal_year_label
from xlsx_tool.xlsxout import atomic_write, close_to_bytes, ensure_folder, new_workbook, write_text

PLACEHOLDER_DEADLINE = "（提出期限を記入）"
CARRIED_MARK = "（前年度評価入り）"  # a prepared master with last year's ratings filled in


class CarryError(ToolError):
    """Last year's folder cannot be carried over; `problems` says why, measure by measure."""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class FinalAnswer:
    rating: str
    direction: str


@dataclass
class Carried:
    folder: Path
    previous: Path
    fiscal_year: int
    measures: int = 0
    ended: list[str] = field(default_factory=list)  # measures that become 終了
    without_previous: list[str] = field(default_factory=list)  # --allow-incomplete
    files: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)  # files the section had prepared: used, untouched
    new_measures: list[str] = field(default_factory=list)  # in a prepared master, not in last year's

    def report(self) -> list[str]:
        lines = [f"{fiscal_year_label(self.fiscal_year)}の調査フォルダを作成しました: {self.folder}"
                 f"（前年度: {self.previous}）",
                 f"施策 {self.measures} 件を引き継ぎ、前年度評価・前年度方向性を記入しました。"]
        if self.ended:
            lines.append(f"前年度の方向性が「完了」の {len(self.ended)} 施策は「終了」になります"
                         f"（施策番号 {'、'.join(self.ended)}）。")
        if self.without_previous:
            lines.append(f"前年度に回答のなかった {len(self.without_previous)} 施策は前年度評価が空欄です"
                         f"（施策番号 {'、'.join(self.without_previous)}）。")
        for path in self.kept:
            lines.append(f"用意されていた {path.name} はそのまま残しました（上書きしていません）。")
        if self.kept and any(p.name.endswith(f"{CARRIED_MARK}{p.suffix}") for p in self.files):
            lines.append(f"施策マスタは、用意されていたものに前年度の評価・方向性を加えた "
                         f"「…{CARRIED_MARK}」を survey.toml で使います。")
        if self.new_measures:
            lines.append(f"前年度にない {len(self.new_measures)} 施策は前年度評価が空欄です"
                         f"（施策番号 {'、'.join(self.new_measures)}。番号を変えた施策なら 前年度施策番号 の列に前年度の番号を）。")
        lines.append("survey.toml の提出期限（deadline）を書き換え、施策マスタの変更があれば反映してから "
                     f"xlsx-tool check {self.folder} を実行してください。")
        for path in self.files:
            lines.append(f"  {path.relative_to(self.folder) if path.is_relative_to(self.folder) else path}")
        return lines


# --- last year, as recorded -------------------------------------------------------------------

def answers_of(loaded: Loaded) -> CurrentAnswers | None:
    """A year's final answers, or None when they were never collected or belong to another
    master. Read only: another year's ledger is never written (nor migrated on disk)."""
    answers = current_answers(loaded, readonly=True)
    return answers if answers.current else None


def final_answers(loaded: Loaded, answers: CurrentAnswers) -> tuple[dict[str, FinalAnswer], list[Measure]]:
    """Each measure's final rating and direction; and the measures without one."""
    survey = loaded.survey
    found, missing = {}, []
    for m in loaded.master.measures:
        given = answers.answers.get(m.number, {})
        rating = given.get(survey.rating_field)
        direction = given.get(survey.direction_field) if survey.direction_field else ""
        if rating is None or (survey.direction_field and direction is None):
            missing.append(m)
            continue
        found[m.number] = FinalAnswer(str(rating), str(direction or ""))
    return found, missing


def load_previous(survey: S.Survey, pool: Pool | None = None) -> tuple[Loaded | None, str]:
    """Last year's survey named by `previous`, or None with the reason in Japanese."""
    if not survey.previous:
        return None, ""
    folder = (survey.folder / survey.previous).resolve()
    if not (folder / S.DEFINITION_FILE).is_file():
        return None, f"前年度の調査フォルダ「{survey.previous}」が見つかりません（移動・削除された可能性があります）"
    try:
        loaded, problems = load(folder, pool)
    except SurveyError:
        loaded, problems = None, []
    if loaded is None or any(p.is_error for p in problems):
        return None, f"前年度の調査フォルダ「{survey.previous}」の調査定義または施策マスタを読み込めません"
    return loaded, ""


# --- init --from -------------------------------------------------------------------------------

def init_from(new: Path, old: Path, fiscal_year: int | None = None, allow_incomplete: bool = False,
              pool: Pool | None = None) -> Carried:
    """Write next year's survey folder from last year's; never leaves a half-made folder."""
    if (new / S.DEFINITION_FILE).exists():
        raise SurveyError(P.sentence("survey-exists", folder=new, file=S.DEFINITION_FILE))
    loaded, problems = load(old, pool)
    if loaded is None or any(p.is_error for p in problems):
        raise CarryError(P.sentence("previous-errors", folder=old), [p for p in problems if p.is_error])
    snap = answers_of(loaded)
    if snap is None:
        raise CarryError(P.sentence("previous-not-collected", folder=old))
    answers, missing = final_answers(loaded, snap)
    if missing and not allow_incomplete:
        listed = [P.make("previous-incomplete", file=loaded.master.file, measure=m.number, value=m.name,
                         department=m.department) for m in missing]
        raise CarryError(P.sentence("previous-incomplete-measures", count=len(missing)), listed)
    year = fiscal_year or loaded.survey.fiscal_year + 1
    carried = Carried(new, old, year, len(loaded.master.measures),
                      [m.number for m in loaded.master.measures
                       if answers.get(m.number) and _ends(loaded, answers[m.number])],
                      [m.number for m in missing])
    made: list[Path] = []
    existed = new.exists()
    try:
        ensure_folder(new)
        for name in (S.FORMS_DIR, S.RETURNS_DIR, S.OUTPUT_DIR):
            ensure_folder(new / name)
            made.append(new / name)
        text = carried_definition((old / S.DEFINITION_FILE).read_text(encoding="utf-8-sig"), year,
                                  _relative(old, new))
        own = prepared(new, loaded.survey.master_file)
        if own is None:
            master_path = new / loaded.survey.master_file
            atomic_write(master_path, carried_master(loaded, answers))
        else:
            # next year's master, prepared by the section: kept as it is; a copy with last
            # year's ratings filled in is the survey's master
            master_path = new / f"{own.stem}{CARRIED_MARK}{own.suffix}"
            atomic_write(master_path, carried_into(own, loaded, answers, pool, carried))
            carried.kept.append(own)
            text = point_file(text, "master", master_path.name)
        made.append(master_path)
        if loaded.survey.departments_file:
            own = prepared(new, loaded.survey.departments_file)
            source = old / loaded.survey.departments_file
            if own is not None:
                carried.kept.append(own)
                text = point_file(text, "departments", own.name)
            elif source.is_file():
                target = new / loaded.survey.departments_file
                shutil.copyfile(source, target)
                made.append(target)
        definition = new / S.DEFINITION_FILE
        atomic_write(definition, text.encode("utf-8"))
        made.append(definition)
    except BaseException:
        remove_made(made)
        if not existed:
            try:
                new.rmdir()
            except OSError:
                pass
        raise
    carried.files = [p for p in made if p.is_file()]
    return carried


def _ends(loaded: Loaded, answer: FinalAnswer) -> bool:
    return answer.direction == S.COMPLETED or answer.rating == S.ENDED


def _relative(old: Path, new: Path) -> str:
    return Path(os.path.relpath(old.resolve(), new.resolve())).as_posix()


def carried_definition(text: str, year: int, previous: str) -> str:
    """Last year's survey.toml with the year advanced, the link back, and the dates to fill in."""
    text = re.sub(r"(?m)^fiscal_year\s*=.*$", f"fiscal_year = {year}", text, count=1)
    link = f'previous = "{previous}"   # 前年度の調査フォルダ（init --from が記入）'
    if re.search(r"(?m)^previous\s*=", text):
        text = re.sub(r"(?m)^previous\s*=.*$", link, text, count=1)
    else:
        text = re.sub(r"(?m)^(fiscal_year\s*=.*)$", lambda m: m.group(1) + "\n" + link, text, count=1)
    text = re.sub(r"(?m)^deadline\s*=.*$", f'deadline = "{PLACEHOLDER_DEADLINE}"', text, count=1)
    return re.sub(r"(?m)^resubmit_deadline\s*=.*$", f'resubmit_deadline = "{PLACEHOLDER_DEADLINE}"', text)


def carried_master(loaded: Loaded, answers: dict[str, FinalAnswer]) -> bytes:
    """Last year's master with 前年度評価/前年度方向性 from its final answers, in its own format."""
    survey, master = loaded.survey, loaded.master
    columns = list(master.columns)
    wanted = [S.COL_PREV_RATING] + ([S.COL_PREV_DIRECTION] if survey.direction_field else []) + [S.COL_PREVIOUS_NUMBER]
    columns += [c for c in wanted if c not in columns]
    rows = [[_cell(loaded, m, c, answers.get(m.number)) for c in columns] for m in master.measures]
    return write_table(columns, rows, master.file.lower().endswith(".csv"))


def carried_into(path: Path, loaded: Loaded, answers: dict[str, FinalAnswer], pool: Pool | None,
                 carried: Carried) -> bytes:
    """The section's own master for next year, with last year's 前年度評価/前年度方向性 filled in
    by 前年度施策番号 (else 施策番号); every other cell as it is, the file itself untouched."""
    from xlsx_tool.define.master import TableError, _cell_text, read_table

    try:
        table = read_table(path, pool)
    except TableError as exc:
        code, kw = exc.args
        raise CarryError(P.sentence("prepared-master-unreadable", file=path.name),
                         [P.make(code, file=path.name, **kw)]) from exc
    while table and not any(_cell_text(v) for v in table[0]):
        table.pop(0)
    if not table:
        raise CarryError(P.sentence("prepared-master-no-header", file=path.name))
    header = [_cell_text(v) for v in table[0]]
    survey = loaded.survey
    wanted = [S.COL_PREV_RATING] + ([S.COL_PREV_DIRECTION] if survey.direction_field else [])
    columns = header + [c for c in wanted if c not in header]
    at = {c: i for i, c in reversed(list(enumerate(columns)))}
    if S.COL_NUMBER not in at:
        raise CarryError(P.sentence("prepared-master-no-number", file=path.name, column=S.COL_NUMBER))
    rows = []
    for raw in table[1:]:
        row = [_cell_text(v) for v in raw] + [""] * (len(columns) - len(raw))
        if not any(row):
            continue
        link = measure_key(row[at[S.COL_PREVIOUS_NUMBER]]) if S.COL_PREVIOUS_NUMBER in at else ""
        last = answers.get(link or measure_key(row[at[S.COL_NUMBER]]))
        if last is not None:
            row[at[S.COL_PREV_RATING]] = last.rating
            if survey.direction_field:
                row[at[S.COL_PREV_DIRECTION]] = last.direction
        elif row[at[S.COL_NUMBER]]:
            carried.new_measures.append(measure_key(row[at[S.COL_NUMBER]]))
        rows.append(row)
    return write_table(columns, rows, path.suffix.lower() == ".csv")


def write_table(columns: list[str], rows: list[list[str]], as_csv: bool) -> bytes:
    """A master as CSV (UTF-8 with BOM, which Excel opens) or as a workbook."""
    if as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # Excel opens UTF-8 CSV by its BOM
    out = io.BytesIO()
    wb = new_workbook(out)
    ws = wb.add_worksheet("施策マスタ")
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    for c, name in enumerate(columns):
        write_text(ws, 0, c, name, head)
        ws.set_column(c, c, 40 if name in (S.COL_NAME, S.COL_INDICATOR) else 14)
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row):
            write_text(ws, r, c, value)
    ws.freeze_panes(1, 0)
    return close_to_bytes(wb, out)


def _cell(loaded: Loaded, m: Measure, column: str, answer: FinalAnswer | None) -> str:
    survey = loaded.survey
    if column == S.COL_PREV_RATING:
        return answer.rating if answer else ""
    if column == S.COL_PREV_DIRECTION:
        return answer.direction if answer else ""
    if column == S.COL_PREVIOUS_NUMBER:
        return m.number
    if column == S.COL_ACHIEVEMENT:
        return ""  # this year's 主な成果 are chosen anew
    if column == loaded.master.group_column:
        group = survey.group(m.group)
        listed = any(g.id == m.group for g in _defined_groups(survey))
        return m.group if listed or group is None or not group.name else f"{group.id} {group.name}"
    simple = {S.COL_NUMBER: m.number, S.COL_NAME: m.name, S.COL_DEPARTMENT: m.department,
              S.COL_INDICATOR: m.indicator, S.COL_UNIT: m.unit, S.COL_TARGET: m.target}
    return simple.get(column, dict(m.extra).get(column, ""))


def _defined_groups(survey: S.Survey) -> tuple[S.Group, ...]:
    """The groups survey.toml lists itself (not those taken from the master)."""
    import tomllib

    try:
        data = tomllib.loads((survey.folder / S.DEFINITION_FILE).read_text(encoding="utf-8-sig"))
    except (OSError, ValueError):
        return ()
    return tuple(S.Group(str(g.get("id", "")), str(g.get("name", ""))) for g in data.get("groups", [])
                 if isinstance(g, dict))


def previous_texts(loaded: Loaded, pool: Pool | None = None) -> dict[str, dict[str, object]]:
    """Last year's text answers, keyed by this year's measure numbers: a starting point."""
    previous, _reason = load_previous(loaded.survey, pool)
    if previous is None:
        return {}
    snap = answers_of(previous)
    if snap is None:
        return {}
    texts = {f.name for f in loaded.survey.fields if f.type == "text"}
    out: dict[str, dict[str, object]] = {}
    for m in loaded.master.measures:
        old = snap.answers.get(m.previous_number or m.number, {})
        kept = {k: v for k, v in old.items() if k in texts and v not in (None, "")}
        if kept and not is_ended(loaded.survey, m):
            out[m.number] = kept
    return out


# --- check against last year -------------------------------------------------------------------

def check_against_previous(loaded: Loaded, pool: Pool | None = None) -> list[Problem]:
    """What `check` says about the plan compared with last year's."""
    survey, master = loaded.survey, loaded.master
    if not survey.previous:
        return []
    previous, reason = load_previous(survey, pool)
    if previous is None:
        return [P.make("previous-unreadable", file=S.DEFINITION_FILE, detail=reason)]
    old = previous.by_number
    label = previous.survey.year_label
    found: list[Problem] = []
    linked = set()
    for m in master.measures:
        link = m.previous_number or (m.number if m.number in old else "")
        if m.previous_number and m.previous_number not in old:
            found.append(P.make("previous-number-unknown", file=master.file, row=m.row,
                                column=S.COL_PREVIOUS_NUMBER, measure=m.number, value=m.previous_number, year=label))
            continue
        if link:
            linked.add(link)
    for number, m in old.items():
        if number not in linked:
            found.append(P.make("measure-removed-since-previous", file=master.file, measure=number,
                                value=clip(m.name, 40), year=label))
    return found
