"""The survey definition (survey.toml): what is asked, of whom, with which scales.

`load_definition` never raises for a user's mistake: it returns the Survey it could build
and the list of every Problem found, so `check` can show them all at once.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import problems as P
from .errors import SurveyError
from .problems import Problem
from .textnorm import choice_key, sheet_name_problem
from .wareki import fiscal_year_label

DEFINITION_FILE = "survey.toml"
FORMS_DIR = "1_配布"
RETURNS_DIR = "2_回収"
OUTPUT_DIR = "3_集計"
LEDGER_FILE = "回収台帳.sqlite3"

FIELD_TYPES = ("choice", "number", "text", "date")
# Columns of the master the tool knows; a field may not reuse one of these names.
COL_NUMBER = "施策番号"
COL_NAME = "施策名"
COL_DEPARTMENT = "所管課"
COL_INDICATOR = "指標"
COL_UNIT = "単位"
COL_TARGET = "目標値"
COL_PREV_RATING = "前年度評価"
COL_PREV_DIRECTION = "前年度方向性"
COL_ACHIEVEMENT = "主な成果"
OPTIONAL_COLUMNS = (COL_INDICATOR, COL_UNIT, COL_TARGET, COL_PREV_RATING, COL_PREV_DIRECTION)
ENDED = "終了"
COMPLETED = "完了"
# Excel limits for data validation messages.
INPUT_TITLE_MAX = 32
INPUT_MESSAGE_MAX = 255
INLINE_LIST_MAX = 255


@dataclass(frozen=True)
class ScaleValue:
    value: str
    definition: str = ""
    ranked: bool = True  # ranked values can improve or decline; その他/終了 cannot
    selectable: bool = True  # 終了 is set by the tool, never picked by a department


@dataclass(frozen=True)
class Scale:
    key: str
    values: tuple[ScaleValue, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values)

    @property
    def selectable(self) -> tuple[str, ...]:
        return tuple(v.value for v in self.values if v.selectable)

    def rank(self, value: str) -> int | None:
        """0 for the best ranked value, None for unranked or unknown values."""
        ranked = [v.value for v in self.values if v.ranked]
        return ranked.index(value) if value in ranked else None

    def lookup(self, text: str) -> str | None:
        """The scale value a typed text means after width/space normalisation, if any."""
        key = choice_key(text)
        for v in self.values:
            if choice_key(v.value) == key:
                return v.value
        return None

    def definition(self, value: str) -> str:
        return next((v.definition for v in self.values if v.value == value), "")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool = False
    scale: str | None = None
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    width: int | None = None


@dataclass(frozen=True)
class Group:
    id: str
    name: str

    def title(self, label: str) -> str:
        """「基本方針Ⅰ：業務の改善・効率化」 as the report writes it."""
        return f"{label}{self.id}：{self.name}" if self.name else f"{label}{self.id}"


@dataclass(frozen=True)
class Survey:
    folder: Path
    id: str
    title: str
    plan: str
    fiscal_year: int
    group_label: str
    groups: tuple[Group, ...]
    scales: dict[str, Scale]
    fields: tuple[Field, ...]
    rating_field: str
    direction_field: str | None
    master_file: str
    deadline: str = ""
    contact: str = ""
    password: str = ""
    input_sheet: str = "調査票"
    instructions_sheet: str = "記入要領"
    status_file: str = "回収状況.xlsx"
    summary_file: str = "集計結果.xlsx"
    achievement_field: str | None = None
    plan_short: str = ""
    source_hash: str = field(default="", compare=False)

    @property
    def year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def rating(self) -> Field:
        return self.field(self.rating_field)

    @property
    def rating_scale(self) -> Scale:
        return self.scales[self.rating.scale or ""]

    @property
    def direction_scale(self) -> Scale | None:
        if not self.direction_field:
            return None
        return self.scales[self.field(self.direction_field).scale or ""]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def path(self, *parts: str) -> Path:
        return self.folder.joinpath(*parts)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id), None)

    def fingerprint(self) -> str:
        """What a form depends on besides its measures: fields and scales."""
        blob = json.dumps(
            [self.id, self.fiscal_year, [f.__dict__ for f in self.fields],
             {k: [v.__dict__ for v in s.values] for k, s in self.scales.items()}],
            ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def read_toml(path: Path) -> tuple[dict | None, list[Problem]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, [P.make("missing-key", file=path.name, key=DEFINITION_FILE)]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [P.make("toml-syntax", file=path.name, detail=str(exc))]
    try:
        return tomllib.loads(text), []
    except tomllib.TOMLDecodeError as exc:
        return None, [P.make("toml-syntax", file=path.name, detail=str(exc))]


def load_definition(folder: Path) -> tuple[Survey | None, list[Problem]]:
    """Read survey.toml in `folder`; return the Survey (None if unusable) and all problems."""
    path = folder / DEFINITION_FILE
    if not path.is_file():
        raise SurveyError(
            f"{folder} に {DEFINITION_FILE} がありません。調査フォルダを指定するか、"
            f"xlsx-tool init で作成してください。")
    data, found = read_toml(path)
    if data is None:
        return None, found
    source_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    return _Builder(data, path.name, found).build(folder, source_hash)


class _Builder:
    """Turns the parsed TOML into a Survey, noting every problem instead of stopping."""

    def __init__(self, data: dict, file: str, found: list[Problem]):
        self.data = data
        self.file = file
        self.found = found

    def problem(self, code: str, **kw) -> None:
        self.found.append(P.make(code, file=self.file, **kw))

    def text(self, table: dict, key: str, where: str, required: bool = True, default: str = "") -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem("missing-key", key=f"{where}{key}")
            return default
        if not isinstance(value, str):
            self.problem("bad-value", key=f"{where}{key}", value=value, hint="文字列を \"…\" で囲んで指定してください。")
            return default
        return value

    def build(self, folder: Path, source_hash: str) -> tuple[Survey | None, list[Problem]]:
        d = self.data
        s = d.get("survey")
        if not isinstance(s, dict):
            self.problem("missing-key", key="[survey]")
            return None, self.found
        year = s.get("fiscal_year")
        if not isinstance(year, int) or not 1989 <= year <= 2200:
            self.problem("bad-value", key="survey.fiscal_year", value=year,
                         hint="西暦の年度を数字で指定してください（例：2021）。")
            year = 2000
        survey_id = self.text(s, "id", "survey.")
        title = self.text(s, "title", "survey.")
        group_label = self.text(s, "group_label", "survey.", default="基本方針")
        scales = self.scales(d.get("scales"))
        fields = self.fields(d.get("fields"), scales)
        groups = self.groups(d.get("groups"))
        names = {f.name: f for f in fields}
        rating_field = self.text(s, "rating_field", "survey.", default="評価")
        if rating_field not in names or names[rating_field].type != "choice":
            self.problem("bad-rating-field", value=rating_field)
        direction_field = s.get("direction_field") or None
        if direction_field is not None and (
                direction_field not in names or names[direction_field].type != "choice"):
            self.problem("bad-direction-field", value=direction_field)
        achievement_field = s.get("achievement_field") or None
        if achievement_field is not None and achievement_field not in names:
            self.problem("bad-value", key="survey.achievement_field", value=achievement_field,
                         hint="fields にある項目名を指定してください。")
        form = d.get("form", {}) if isinstance(d.get("form"), dict) else {}
        outputs = d.get("outputs", {}) if isinstance(d.get("outputs"), dict) else {}
        input_sheet = self.text(form, "input_sheet", "form.", required=False, default="調査票")
        instructions_sheet = self.text(form, "instructions_sheet", "form.", required=False,
                                       default="記入要領")
        for name in (input_sheet, instructions_sheet):
            reason = sheet_name_problem(name)
            if reason:
                self.problem("bad-sheet-name", value=name, reason=reason)
        if input_sheet == instructions_sheet:
            self.problem("bad-sheet-name", value=input_sheet, reason="2つのシートが同じ名前です")
        password = self.text(form, "password", "form.", required=False)
        if len(password) > 255:
            self.problem("password-too-long")
        if any(p.is_error for p in self.found):
            return None, self.found
        survey = Survey(
            folder=folder, id=survey_id, title=title,
            plan=self.text(s, "plan", "survey.", required=False, default=title),
            fiscal_year=year, group_label=group_label, groups=groups, scales=scales,
            fields=fields, rating_field=rating_field, direction_field=direction_field,
            master_file=self.text(s, "master", "survey.", default="施策マスタ.xlsx"),
            deadline=self.text(s, "deadline", "survey.", required=False),
            contact=self.text(s, "contact", "survey.", required=False),
            password=password, input_sheet=input_sheet, instructions_sheet=instructions_sheet,
            status_file=self.text(outputs, "status", "outputs.", required=False,
                                  default="回収状況.xlsx"),
            summary_file=self.text(outputs, "summary", "outputs.", required=False,
                                   default="集計結果.xlsx"),
            achievement_field=achievement_field, source_hash=source_hash,
            plan_short=self.text(s, "plan_short", "survey.", required=False),
        )
        return survey, self.found

    def scales(self, raw: object) -> dict[str, Scale]:
        if not isinstance(raw, dict) or not raw:
            self.problem("missing-key", key="[scales]")
            return {}
        year = self.data.get("survey", {}).get("fiscal_year")
        year_text = fiscal_year_label(year) if isinstance(year, int) else "当該年度"
        scales = {}
        for key, table in raw.items():
            values_raw = table.get("values") if isinstance(table, dict) else None
            if not isinstance(values_raw, list) or not values_raw:
                self.problem("empty-scale", scale=key)
                continue
            values, seen = [], set()
            for item in values_raw:
                if isinstance(item, str):
                    item = {"value": item}
                if not isinstance(item, dict):
                    self.problem("bad-choice", scale=key, value=item)
                    continue
                value = str(item.get("value", "")).strip()
                if not value or "," in value or len(value) > 255:
                    self.problem("bad-choice", scale=key, value=value)
                    continue
                if choice_key(value) in seen:
                    self.problem("duplicate-choice", scale=key, value=value)
                    continue
                seen.add(choice_key(value))
                # Definitions may say {年度}: the report's wording names the fiscal year.
                definition = str(item.get("definition", "")).replace("{年度}", year_text)
                values.append(ScaleValue(value, definition, bool(item.get("ranked", True)),
                                         bool(item.get("selectable", True))))
            scale = Scale(key, tuple(values))
            scales[key] = scale
            if len(",".join(scale.selectable)) > INLINE_LIST_MAX:
                self.problem("list-too-long", scale=key)
            if len(definitions_message(scale)) > INPUT_MESSAGE_MAX:
                self.problem("message-too-long", scale=key)
        return scales

    def fields(self, raw: object, scales: dict[str, Scale]) -> tuple[Field, ...]:
        if not isinstance(raw, list) or not raw:
            self.problem("missing-key", key="[[fields]]")
            return ()
        fields, seen = [], set()
        reserved = {COL_NUMBER, COL_NAME, COL_DEPARTMENT, *OPTIONAL_COLUMNS}
        for i, item in enumerate(raw, 1):
            if not isinstance(item, dict):
                self.problem("bad-value", key=f"fields[{i}]", value=item, hint="[[fields]] の表にしてください。")
                continue
            name = self.text(item, "name", f"fields[{i}].")
            if not name:
                continue
            kind = item.get("type", "text")
            if kind not in FIELD_TYPES:
                self.problem("unknown-field-type", field=name, value=kind)
                continue
            if name in seen:
                self.problem("duplicate-field", field=name)
                continue
            if name in reserved:
                self.problem("reserved-field", field=name)
                continue
            seen.add(name)
            scale = item.get("scale") or (name if kind == "choice" else None)
            if kind == "choice" and scale not in scales:
                self.problem("unknown-scale", field=name, value=scale)
                continue
            max_length = item.get("max_length")
            if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length <= 32767):
                self.problem("bad-value", key=f"fields[{i}].max_length", value=max_length,
                             hint="1〜32767 の整数にしてください（Excel のセルの上限）。")
                max_length = None
            if kind == "text" and max_length is None:
                max_length = 32767
            fields.append(Field(
                name=name, type=kind, required=bool(item.get("required", False)),
                scale=scale if kind == "choice" else None, max_length=max_length,
                minimum=_number(item.get("minimum")), maximum=_number(item.get("maximum")),
                help=str(item.get("help", "")), width=item.get("width")))
        return tuple(fields)

    def groups(self, raw: object) -> tuple[Group, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.problem("bad-value", key="groups", value="…", hint="[[groups]] の表にしてください。")
            return ()
        groups = []
        for i, item in enumerate(raw, 1):
            if not isinstance(item, dict):
                continue
            gid = str(item.get("id", "")).strip()
            if not gid:
                self.problem("missing-key", key=f"groups[{i}].id")
                continue
            groups.append(Group(gid, str(item.get("name", "")).strip()))
        return tuple(groups)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def definitions_message(scale: Scale) -> str:
    """The dropdown's input message: each selectable value with its definition."""
    return "\n".join(
        f"{v.value}：{v.definition}" if v.definition else v.value
        for v in scale.values if v.selectable)
