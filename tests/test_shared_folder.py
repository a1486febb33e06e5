"""A survey folder on a file server (\\\\server\\share, a mapped drive): what the ledger does there.

SQLite's documentation: locking on network file systems can be unreliable, and WAL mode does not
work on them at all (its shared-memory index needs one machine). So the ledger always runs with a
rollback journal, and two collects on one folder at once must leave it whole: each run either
completes or stops with the sentence that another program is using the ledger.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import Env

from xlsx_tool.cli import cli

LEDGER = "回収台帳.sqlite3"


def test_a_ledger_left_in_wal_mode_goes_back_to_a_rollback_journal(survey_env: Env):
    env = survey_env
    env.put_valid()
    runner = CliRunner()
    assert runner.invoke(cli, ["collect", str(env.folder)]).exit_code == 0
    ledger = env.folder / LEDGER
    with sqlite3.connect(ledger) as other:  # a DB tool (or an older release) switched it to WAL
        assert other.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    other.close()
    assert runner.invoke(cli, ["collect", str(env.folder)]).exit_code == 0
    with sqlite3.connect(ledger) as reader:
        assert reader.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    reader.close()
    assert not (env.folder / (LEDGER + "-wal")).exists()


def _collect(folder) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "xlsx_tool", "collect", "--json", str(folder)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _relative(folder, out: bytes) -> dict:
    text = out.decode("utf-8").replace(json.dumps(str(folder))[1:-1], "<survey>")
    return json.loads(text)


@pytest.mark.e2e
def test_two_collects_at_once_on_one_folder_leave_one_consistent_ledger(survey_env: Env, tmp_path):
    env = survey_env
    env.put_valid()
    alone = tmp_path / "alone"
    shutil.copytree(env.folder, alone)
    runs = [_collect(env.folder), _collect(env.folder)]  # as two PCs on one shared folder
    # read the output while waiting: a Windows pipe holds only a few KB of the JSON
    outcomes = [(*run.communicate(timeout=300), run.returncode) for run in runs]
    outcomes = [(code, out, err) for out, err, code in outcomes]
    for code, out, err in outcomes:
        assert b"Traceback" not in err, err.decode("utf-8", "replace")
        if code == 0:
            assert _relative(env.folder, out)["departments"]
        else:  # the other run held the ledger longer than the wait: one sentence, exit 2
            assert code == 2 and "使用中です" in err.decode("utf-8"), err.decode("utf-8", "replace")
    assert any(code == 0 for code, _out, _err in outcomes)
    with sqlite3.connect(env.folder / LEDGER) as ledger:
        assert ledger.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert ledger.execute("SELECT COUNT(*) FROM received").fetchone()[0] == len(env.base.departments)
    ledger.close()
    openpyxl.load_workbook(env.output / "回収状況.xlsx")  # whole, whichever run wrote it last
    again, single = _collect(env.folder), _collect(alone)
    got, want = again.communicate(timeout=300), single.communicate(timeout=300)
    assert again.returncode == single.returncode == 0
    assert _relative(env.folder, got[0]) == _relative(alone, want[0])
