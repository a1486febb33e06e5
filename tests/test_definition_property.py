"""Any survey definition that `check` accepts, `generate` succeeds on (property test)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.survey_helpers import fill_placeholders, write_master
from xlsx_tool.define.master import load
from xlsx_tool.forms.generate import generate

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = tomllib.loads(fill_placeholders((ROOT / "templates" / "2025.toml").read_text(encoding="utf-8")))


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string is JSON-compatible here
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def to_toml(data: dict) -> str:
    lines = []
    for key, value in data.items():
        if isinstance(value, dict) and key != "scales":
            lines.append(f"[{key}]")
            lines += [f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()]
        elif key == "scales":
            for name, scale in value.items():
                lines.append(f"[scales.{json.dumps(name, ensure_ascii=False)}]")
                lines += [f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in scale.items()]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                lines.append(f"[[{key}]]")
                lines += [f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in item.items()]
        else:
            lines.insert(0, f"{json.dumps(key, ensure_ascii=False)} = {toml_value(value)}")
    return "\n".join(lines) + "\n"


odd_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
plain = st.one_of(st.text(st.sampled_from("施策評価実績値課題取組達成未済ＡＢＣabc123 ・（）"), min_size=1, max_size=12),
                  st.sampled_from(["達成+", "A", "B", "その他"]))


def mostly(valid, hostile):
    """Plausible values most of the time (one in ten hostile), so that many definitions pass
    check and reach generate: a property over refusals alone would prove nothing."""
    return st.one_of(*[valid] * 9, hostile)


names = mostly(plain, st.one_of(st.sampled_from(["=A1", "History", "調査票", "_id", "a" * 41, "改\n行", "指標・目標値",
                                                 "記入者", "'x", "a,b"]), odd_text))
field = st.fixed_dictionaries(
    {"name": names, "type": mostly(st.sampled_from(["number", "text", "date"]), st.sampled_from(["choice", "list"]))},
    optional={"required": mostly(st.booleans(), odd_text), "max_length": mostly(st.integers(1, 32767), st.integers(-5, 40000)),
              "minimum": mostly(st.integers(-100, 100), st.floats(allow_nan=False)),
              "maximum": mostly(st.integers(-100, 10**9), st.floats(allow_nan=False)), "help": odd_text,
              "width": mostly(st.integers(4, 80), st.one_of(odd_text, st.floats(allow_nan=False))),
              "scale": mostly(st.just("評価"), st.just("方向")), "percent": st.booleans()})
scale_value = mostly(plain, st.one_of(names, st.fixed_dictionaries(
    {"value": names}, optional={"definition": odd_text, "ranked": st.booleans(), "selectable": st.booleans()})))
definitions = st.fixed_dictionaries({
    "fields": st.lists(field, min_size=1, max_size=5, unique_by=lambda f: f["name"]),
    "scale": st.lists(scale_value, min_size=1, max_size=8, unique_by=lambda v: str(v).casefold()),
    "input_sheet": mostly(st.just("調査票"), names), "instructions_sheet": mostly(st.just("記入要領"), names),
    "password": mostly(st.just(""), odd_text), "title": mostly(plain, odd_text), "deadline": odd_text,
    "group_label": st.sampled_from(["基本方針", "基本目標", ""]),
    "groups": st.lists(st.fixed_dictionaries({"id": mostly(st.sampled_from(["Ⅰ", "Ⅱ", "①", "1"]), names),
                                              "name": odd_text}), max_size=4, unique_by=lambda g: str(g["id"])),
})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(d=definitions)
def test_a_definition_check_accepts_always_generates(tmp_path_factory, d):
    data = json.loads(json.dumps(TEMPLATE))
    data["survey"].pop("departments", None)
    data["survey"].update(title=d["title"], deadline=d["deadline"], group_label=d["group_label"],
                          master="施策マスタ.csv")
    data["form"] = {"input_sheet": d["input_sheet"], "instructions_sheet": d["instructions_sheet"],
                    "password": d["password"]}
    data["scales"]["評価"]["values"] = d["scale"]
    data["fields"] = [data["fields"][0], *d["fields"]]  # keep the rating field: the schema needs one
    data["groups"] = d["groups"]
    folder = tmp_path_factory.mktemp("def")
    (folder / "survey.toml").write_text(to_toml(data), encoding="utf-8")
    label = d["group_label"] or "基本方針"
    group = d["groups"][0]["id"] if d["groups"] else "Ⅰ"
    write_master(folder, ["施策番号", "施策名", label, "所管課"],
                 [[1, "施策一", group, "総務課"], [2, "施策二", group, "情報課"]])
    loaded, problems = load(folder)
    if loaded is None or any(p.is_error for p in problems):
        return  # refused by check, with its reasons: nothing more to hold
    result = generate(loaded)  # must not raise
    assert len(result.written) == 2 and all(p.stat().st_size > 0 for p in result.written)
