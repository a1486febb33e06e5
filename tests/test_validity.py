"""Every file the tool writes is a valid Office Open XML package, by Microsoft's own validator.

The forms, a correction copy, 回収状況, 集計結果 and 実績報告書 of both report styles go through the
Open XML SDK's OpenXmlValidator (tests/support/openxml_sdk.py): schema and semantic constraints of
every part, as Excel and Word expect them. A file that opens with a repair prompt in Excel fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import reference2020 as R
from tests.support.openxml_sdk import validate, validator_or_skip
from tests.survey_helpers import forms_of
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.demo import fill_form

runner = CliRunner()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory) -> list[Path]:
    validator_or_skip()
    root = tmp_path_factory.mktemp("valid")
    demo = root / "demo"
    assert runner.invoke(cli, ["demo", str(demo)]).exit_code == 0
    # one department answers with a mistake: a correction copy is written
    returned = sorted((demo / "2_回収").glob("*人事課*"))[0]
    fill_form(returned, returned, {"2": {"評価": "たぶん"}})
    runner.invoke(cli, ["collect", str(demo)])
    ref = root / "ref2020"
    answers = R.build(ref)
    loaded, _problems = load(ref)
    for form in forms_of(loaded):
        fill_form(form, ref / "2_回収" / form.name, answers)
    assert runner.invoke(cli, ["run", str(ref)]).exit_code == 0
    files = [p for folder in (demo, ref) for sub in ("1_配布", "3_集計")
             for p in sorted((folder / sub).rglob("*")) if p.suffix in (".xlsx", ".docx")]
    assert any("修正依頼" in p.name for p in files)
    assert {p.name for p in files} >= {"回収状況.xlsx", "集計結果.xlsx", "実績報告書.docx"}
    return files


def test_every_output_is_a_valid_package(outputs):
    found = {p.name: [str(f) for f in validate(p)] for p in outputs}
    assert {name: errors for name, errors in found.items() if errors} == {}
