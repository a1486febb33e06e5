"""survey.toml against its schema (define/schema.py): each wrong key, type or path is one
message naming the dotted key and what to write instead. The shipped templates are the
starting point, changed one key at a time as a section might."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path

import pytest

from xlsx_tool.define import schema

ROOT = Path(__file__).resolve().parents[1]
BASE = {name: tomllib.loads((ROOT / "templates" / f"{name}.toml").read_text(encoding="utf-8"))
        for name in ("2025", "2020")}


def found(data: dict) -> list[str]:
    return [p.message for p in schema.check(data, "survey.toml")]


def edited(edit, template: str = "2025") -> dict:
    data = copy.deepcopy(BASE[template])
    edit(data)
    return data


@pytest.mark.parametrize("template", ["2025", "2020"])
def test_the_shipped_templates_pass(template):
    assert found(BASE[template]) == []


def setter(*path, value):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


def remover(*path):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return edit


CASES = [
    # (id, edit, the start of each message expected: None for none)
    ("misspelt-key", setter("survey", "titel", value="x"), "項目「survey.titel」は使えません。「title」の誤りではありませんか。"),
    ("unknown-key-no-neighbour", setter("survey", "zzzzzz", value="x"), "項目「survey.zzzzzz」は使えません。使える項目: id、title、"),
    ("unknown-table", setter("extra", value={}), "項目「extra」は使えません。"),
    ("missing-id", remover("survey", "id"), "必須の項目「survey.id」がありません。追記してください。"),
    ("missing-title", remover("survey", "title"), "必須の項目「survey.title」がありません。"),
    ("missing-fiscal-year", remover("survey", "fiscal_year"), "必須の項目「survey.fiscal_year」がありません。"),
    ("missing-survey", remover("survey"), "必須の項目「survey」がありません。"),
    ("missing-scales", remover("scales"), "必須の項目「scales」がありません。"),
    ("missing-fields", remover("fields"), "必須の項目「fields」がありません。"),
    ("empty-id", setter("survey", "id", value="  "), "「survey.id」の値「  」は使えません。空にはできません。"),
    ("id-not-text", setter("survey", "id", value=5), "「survey.id」の値「5」は使えません。文字列（\"…\" で囲む）で指定してください。"),
    ("year-as-text", setter("survey", "fiscal_year", value="2021"),
     "「survey.fiscal_year」の値「2021」は使えません。西暦の年度を数字で指定してください（例：2021）。"),
    ("year-as-float", setter("survey", "fiscal_year", value=2021.0), "「survey.fiscal_year」の値「2021.0」は使えません。"),
    ("year-as-bool", setter("survey", "fiscal_year", value=True), "「survey.fiscal_year」の値「true」は使えません。"),
    ("year-too-early", setter("survey", "fiscal_year", value=1988), "「survey.fiscal_year」の値「1988」は使えません。"),
    ("year-too-late", setter("survey", "fiscal_year", value=2201), "「survey.fiscal_year」の値「2201」は使えません。"),
    ("plan-end-too-late", setter("survey", "plan_end", value=2301), "「survey.plan_end」の値「2301」は使えません。計画の最終年度を西暦で"),
    ("master-in-a-folder", setter("survey", "master", value="../施策マスタ.xlsx"),
     "「survey.master」の「../施策マスタ.xlsx」は調査フォルダ内のファイル名として使えません。"),
    ("master-backslash", setter("survey", "master", value="sub\\施策マスタ.xlsx"), "「survey.master」の「sub\\施策マスタ.xlsx」は調査フォルダ内"),
    ("master-dot", setter("survey", "master", value=".."), "「survey.master」の「..」は調査フォルダ内"),
    ("master-trailing-dot", setter("survey", "master", value="施策マスタ.xlsx."), "「survey.master」の「施策マスタ.xlsx.」は調査フォルダ内"),
    ("master-colon", setter("survey", "master", value="C:施策.xlsx"), "「survey.master」の「C:施策.xlsx」は調査フォルダ内"),
    ("master-empty", setter("survey", "master", value=" "), "「survey.master」の「 」は調査フォルダ内"),
    ("master-wrong-kind", setter("survey", "master", value="施策マスタ.docx"),
     "「survey.master」の値「施策マスタ.docx」は使えません。拡張子を .xlsx / .xlsm / .csv にしてください。"),
    ("status-as-csv", setter("outputs", "status", value="回収状況.csv"), "「outputs.status」の値「回収状況.csv」は使えません。拡張子を .xlsx にしてください。"),
    ("style-unknown", setter("report", "style", value="2030"),
     "「report.style」の値「2030」は使えません。次のいずれか：2025 / 2020で指定してください。"),
    ("sheet-bad-character", setter("form", "input_sheet", value="調査票?"), "「form.input_sheet」の値「調査票?」は使えません。Excel のシート名に使えません（使えない文字 ? を含みます）。"),
    ("sheet-underscore", setter("form", "input_sheet", value="_id2"), "「form.input_sheet」の値「_id2」は使えません。Excel のシート名に使えません（「_」で始まる名前はツールが使います）。"),
    ("password-too-long", setter("form", "password", value="p" * 256), "「form.password」の値「" + "p" * 39 + "…」は使えません。255文字以内にしてください。"),
    ("password-at-limit", setter("form", "password", value="p" * 255), None),
    ("prefill-as-text", setter("form", "prefill_previous", value="yes"), "「form.prefill_previous」の値「yes」は使えません。true または false（引用符なし）で指定してください。"),
    ("form-not-a-table", setter("form", value="調査票"), "「form」の値「調査票」は使えません。[表]で指定してください。"),
    ("fields-not-tables", setter("fields", value=["評価"]), "「fields」の値「['評価']」は使えません。[[表]] の並びで指定してください。"),
    ("field-required-as-text", setter("fields", 0, "required", value="no"), "「fields[1].required」の値「no」は使えません。"),
    ("field-width-too-small", setter("fields", 0, "width", value=3), "「fields[1].width」の値「3」は使えません。4〜80 の数値"),
    ("field-width-at-limits", lambda d: (d["fields"][0].update(width=4), d["fields"][1].update(width=80)), None),
    ("field-width-nan", setter("fields", 0, "width", value=float("nan")), "「fields[1].width」の値「nan」は使えません。"),
    ("field-max-length-zero", setter("fields", 0, "max_length", value=0), "「fields[1].max_length」の値「0」は使えません。1〜32767 の整数にしてください（Excel のセルの上限）。"),
    ("field-max-length-over", setter("fields", 0, "max_length", value=32768), "「fields[1].max_length」の値「32768」は使えません。1〜32767 の整数にしてください"),
    ("field-max-length-at-limits", lambda d: (d["fields"][0].update(max_length=1), d["fields"][1].update(max_length=32767)), None),
    ("field-minimum-text", setter("fields", 0, "minimum", value="0"), "「fields[1].minimum」の値「0」は使えません。数値（引用符なし）で"),
    ("field-type-unknown", setter("fields", 0, "type", value="list"), "「fields[1].type」の値「list」は使えません。次のいずれか：choice / number / text / dateで指定してください。"),
    ("field-unknown-key", setter("fields", 1, "requird", value=True), "項目「fields[2].requird」は使えません。「required」の誤りではありませんか。"),
    ("field-no-name", remover("fields", 0, "name"), "必須の項目「fields[1].name」がありません。"),
    ("scale-not-a-table", setter("scales", "評価", value=["A"]), "「scales.評価」の値「['A']」は使えません。[scales.\"名前\"] の表にしてください。"),
    ("scale-no-values", setter("scales", "評価", "values", value=[]), "「scales.\"評価\".values」の値「[]」は使えません。値を1つ以上並べてください。"),
    ("scale-value-number", setter("scales", "評価", "values", value=["A", 3]), "「scales.\"評価\".values[2]」の値「3」は使えません。"),
    ("scale-value-misspelt", setter("scales", "評価", "values", value=[{"valeu": "A"}]),
     ("項目「scales.\"評価\".values[1].valeu」は使えません。「value」の誤りではありませんか。",
      "必須の項目「scales.\"評価\".values[1].value」がありません。追記してください。")),
    ("scale-ranked-text", setter("scales", "評価", "values", value=[{"value": "A", "ranked": "no"}]),
     "「scales.\"評価\".values[1].ranked」の値「no」は使えません。"),
    ("mail-from-bad", setter("mail", value={"from": "joho@"}), "「mail.from」の値「joho@」は使えません。name@example.lg.jp の形のメールアドレスにしてください。"),
    ("mail-from-spaces-ok", setter("mail", value={"from": " joho@example.lg.jp "}), None),
    ("mail-port-zero", setter("mail", value={"smtp_port": 0}), "「mail.smtp_port」の値「0」は使えません。"),
    ("mail-port-top", setter("mail", value={"smtp_port": 65535, "timeout": 600}), None),
    ("mail-timeout-zero", setter("mail", value={"timeout": 0.5}), "「mail.timeout」の値「0.5」は使えません。"),
    ("mail-message-empty", setter("mail", value={"remind": {"subject": "", "body": "x"}}), "「mail.remind.subject」の値「」は使えません。空にはできません。"),
    ("mail-message-unknown", setter("mail", value={"remind": {"subjet": "x"}}), "項目「mail.remind.subjet」は使えません。「subject」の誤りではありませんか。"),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_change_gives_its_messages(edit, expected):
    messages = found(edited(edit))
    expected = () if expected is None else (expected,) if isinstance(expected, str) else expected
    assert len(messages) == len(expected), messages
    for message, start in zip(messages, expected, strict=True):
        assert message.startswith(start), message


def test_every_finding_at_once():
    def edit(data):
        data["survey"]["titel"] = data["survey"].pop("title")
        data["form"]["input_sheet"] = 3
        data["fields"][0]["required"] = "yes"
    assert [m.split("」")[0] for m in found(edited(edit))] == [
        "項目「survey.titel", "必須の項目「survey.title", "「form.input_sheet", "「fields[1].required"]


@pytest.mark.parametrize(("key", "value", "left"), [
    ("deadline", "（提出期限を記入）", True),
    ("contact", "情報政策課（内線を記入）", True),
    ("return_to", "（返送先のメールアドレスを記入）", True),
    ("resubmit_deadline", "令和4年6月1日（を記入）", True),
    ("deadline", "令和4年5月13日（金）", False),
    ("contact", "情報政策課（内線 2021）", False),
    ("plan", "（計画名を記入）", False),  # not shown on forms or mails
])
def test_placeholders_left_in_what_forms_and_mails_show(key, value, left):
    data = edited(setter("survey", key, value=value))
    problems = [p for p in schema.placeholders(data, "survey.toml") if f"「survey.{key}」" in p.message]
    if left:
        assert [(p.code, p.file) for p in problems] == [("placeholder-left", "survey.toml")]
        assert f"「survey.{key}」がテンプレートの「{value}」のままです。" in problems[0].message
    else:
        assert problems == []


def test_placeholders_of_a_broken_definition_are_not_a_crash():
    assert schema.placeholders({"survey": "x"}, "survey.toml") == []
    assert schema.placeholders({}, "survey.toml") == []


@pytest.mark.parametrize(("value", "shown"), [
    (True, "true"), (False, "false"), (3, "3"), ("no", "no"), (["a"], "['a']"),
    ("あ" * 40, "あ" * 40), ("あ" * 41, "あ" * 39 + "…"),
])
def test_a_value_is_shown_as_toml_writes_it_and_cut_at_40_characters(value, shown):
    assert schema._show(value) == shown


def test_each_finding_names_the_file_and_none_hides_the_next_in_its_table():
    def edit(data):
        data["survey"] = {"titel": "x", "zzzzzz": 1, **data["survey"], "master": "../施策マスタ.csv",
                          "departments": "所管課一覧.txt"}
    problems = schema.check(edited(edit), "survey.toml")
    assert [(p.code, p.file, p.message.split("」")[0]) for p in problems] == [
        ("unknown-key", "survey.toml", "項目「survey.titel"), ("unknown-key", "survey.toml", "項目「survey.zzzzzz"),
        ("unsafe-path", "survey.toml", "「survey.master"), ("bad-value", "survey.toml", "「survey.departments")]


def test_each_finding_in_nested_tables_names_the_file_and_none_hides_the_next():
    def edit(data):
        data["fields"][0]["requried"] = True
        data["scales"] = {"甲": "x", "乙": 3, "評価": {"values": [1, 2, {"valeu": "A"}, {"value": 4}]}}
    problems = schema.check(edited(edit), "survey.toml")
    assert [(p.code, p.file, p.message.split("」")[0]) for p in problems] == [
        ("bad-value", "survey.toml", "「scales.甲"), ("bad-value", "survey.toml", "「scales.乙"),
        ("bad-value", "survey.toml", '「scales."評価".values[1]'), ("bad-value", "survey.toml", '「scales."評価".values[2]'),
        ("unknown-key", "survey.toml", '項目「scales."評価".values[3].valeu'),
        ("missing-key", "survey.toml", '必須の項目「scales."評価".values[3].value'),
        ("bad-value", "survey.toml", '「scales."評価".values[4].value'),
        ("unknown-key", "survey.toml", "項目「fields[1].requried")]
