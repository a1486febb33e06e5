"""Issue 26: a receipt for every file received (`xlsx-tool mail FOLDER receipt`).

After collect, each department whose chosen file has had no receipt yet gets one: 受領しました, the
file and when it came (和暦), and either 「内容に問題はありませんでした」 or the problems in brief with
a pointer to the correction request. Drafts are parsed with Python's `email`; delivery goes to a
real SMTP server on 127.0.0.1 (aiosmtpd), once per file.
"""

from __future__ import annotations

import email
import re
import shutil
from email import policy
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_reasons import (
    CITIZENS,
    FINANCE,
    FINANCE_WITHOUT_REASON,
    build,
    collect_json,
    send_back,
)
from xlsx_tool.cli import cli
from xlsx_tool.define.master import load
from xlsx_tool.forms import layout as L

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is a test extra (pip install -e '.[test]')")
from aiosmtpd.controller import Controller  # noqa: E402

pytestmark = pytest.mark.cycle

runner = CliRunner()


@pytest.fixture(scope="module")
def collected(tmp_path_factory) -> Path:
    """財政課 changed No.1's rating without a reason (要修正); 区民課's file is complete (提出済)."""
    folder = build(tmp_path_factory.mktemp("receipts") / "survey")
    send_back(folder, "財政課", FINANCE_WITHOUT_REASON)
    send_back(folder, "区民課", CITIZENS)
    assert collect_json(folder)[0] == 1
    return folder


@pytest.fixture
def survey(collected, tmp_path) -> Path:
    return Path(shutil.copytree(collected, tmp_path / "survey"))


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def with_server(folder: Path, port: int) -> None:
    toml = folder / "survey.toml"
    text, n = re.subn(r"(?m)^\[mail\]\n", f'[mail]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\n',
                      toml.read_text(encoding="utf-8"))
    assert n == 1
    toml.write_text(text, encoding="utf-8")


def body(msg: email.message.EmailMessage) -> str:
    return msg.get_body(("plain",)).get_content()


def test_receipt_drafts_say_what_came_and_what_checking_found(survey):
    folder = survey
    res = runner.invoke(cli, ["mail", str(folder), "receipt"])
    assert res.exit_code == 0, res.output
    assert "受領通知: 下書き 2 通" in res.output
    drafts = {p.stem: email.message_from_bytes(p.read_bytes(), policy=policy.default)
              for p in (folder / "4_メール" / "受領").glob("*.eml")}
    assert sorted(drafts) == ["区民課", "財政課"]
    loaded, _ = load(folder)
    names = L.file_names(loaded.survey, loaded.master.departments)
    for department, msg in drafts.items():
        assert msg["X-Unsent"] == "1" and msg["To"].addresses[0].addr_spec == loaded.departments_list.get(department).email
        assert str(msg["Subject"]) == f"【受領】令和3年度 ICT推進計画2020 進捗状況調査の調査票を受け付けました（{department}）"
        assert msg.get_content_type() == "text/plain" and not list(msg.iter_attachments())
        text = body(msg)
        assert "貴課の調査票を受領しました" in text and f"受領したファイル：{names[department]}" in text
        assert "受付日時：令和" in text  # 和暦, formatted without strftime
    assert "確認の結果、内容に問題はありませんでした。" in body(drafts["区民課"])
    finance = body(drafts["財政課"])
    assert "修正が必要な箇所が 1 件ありました（評価の変更理由の未入力 1件）" in finance
    assert "・施策番号 1：評価を前年度の「B」から「A」に変えた場合は「評価の変更理由」が必要です。" in finance
    assert "修正依頼のメールで別途お送りします" in finance and "内容に問題はありませんでした" not in finance


def test_receipts_go_once_per_file_and_again_for_a_new_file(survey, smtp):
    inbox, port = smtp
    folder = survey
    with_server(folder, port)
    # the correction request first: the receipt then says it has gone
    assert runner.invoke(cli, ["mail", str(folder), "correct", "--send"]).exit_code == 0
    assert len(inbox.messages) == 1
    first = runner.invoke(cli, ["mail", str(folder), "receipt", "--send"])
    assert first.exit_code == 0, first.output
    assert "受領通知: 送信 2 通" in first.output
    receipts = {m["To"].addresses[0].addr_spec: m for m in inbox.messages[1:]}
    assert sorted(receipts) == ["kumin@example.lg.jp", "zaisei@example.lg.jp"]
    assert all(m["X-Unsent"] is None for m in receipts.values())
    assert "お送りした修正依頼のメールに添付しています" in body(receipts["zaisei@example.lg.jp"])
    second = runner.invoke(cli, ["mail", str(folder), "receipt", "--send"])
    assert "送信 0 通" in second.output and "送信済みのため省略 2 通" in second.output
    assert len(inbox.messages) == 3
    drafts = runner.invoke(cli, ["mail", str(folder), "receipt"])  # drafts leave out what was sent
    assert "下書き 0 通" in drafts.output and "送信済みのため省略 2 通" in drafts.output
    # 財政課 sends a corrected file: a new file, a new receipt (区民課's file is the same: none)
    send_back(folder, "財政課", FINANCE, name="財政課_修正版.xlsx")
    assert collect_json(folder)[0] == 0
    third = runner.invoke(cli, ["mail", str(folder), "receipt", "--send"])
    assert "送信 1 通" in third.output and "[送信] 財政課" in third.output
    assert len(inbox.messages) == 4
    latest = inbox.messages[-1]
    assert latest["To"].addresses[0].addr_spec == "zaisei@example.lg.jp"
    assert "受領したファイル：財政課_修正版.xlsx" in body(latest)
    assert "確認の結果、内容に問題はありませんでした。" in body(latest)


def test_a_receipt_before_any_collect_is_one_sentence(tmp_path):
    folder = build(tmp_path / "survey")
    res = runner.invoke(cli, ["mail", str(folder), "receipt"])
    assert res.exit_code == 2
    assert "まだ回収（collect）の結果がありません" in res.output and "受領通知" in res.output


def test_receipt_text_is_editable_in_the_survey_definition(survey):
    folder = survey
    toml = folder / "survey.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + '\n[mail.receipt]\nsubject = "受領：{所管課}"\n'
                    'body = "{担当者}様\\n{受領ファイル}（{受付日時}）\\n{確認結果}"\n', encoding="utf-8")
    assert runner.invoke(cli, ["check", str(folder)]).exit_code == 0
    runner.invoke(cli, ["mail", str(folder), "receipt"])
    msg = email.message_from_bytes((folder / "4_メール" / "受領" / "区民課.eml").read_bytes(), policy=policy.default)
    assert str(msg["Subject"]) == "受領：区民課"
    assert body(msg).startswith("鈴木 花子様\n") and "内容に問題はありませんでした" in body(msg)
    toml.write_text(toml.read_text(encoding="utf-8").replace("{受付日時}", "{受信日時}"), encoding="utf-8")
    res = runner.invoke(cli, ["check", str(folder)])
    assert res.exit_code == 1 and "mail.receipt.body" in res.output and "{受信日時}" in res.output


def test_mail_help_names_the_receipt_in_japanese():
    res = runner.invoke(cli, ["mail", "--help"])
    assert res.exit_code == 0 and "receipt 受領通知" in res.output


def test_a_corrected_address_gets_the_receipt(survey, smtp):
    """A receipt is keyed by the file and the recipient, as the other kinds: sent to a mistyped
    address, it goes again once the 所管課一覧 is corrected, and only there."""
    inbox, port = smtp
    with_server(survey, port)
    listing = survey / "所管課一覧.csv"
    listing.write_text(listing.read_text(encoding="utf-8-sig").replace("kumin@", "kumn@"), encoding="utf-8-sig")
    assert runner.invoke(cli, ["mail", str(survey), "receipt", "--send"]).exit_code == 0
    listing.write_text(listing.read_text(encoding="utf-8-sig").replace("kumn@", "kumin@"), encoding="utf-8-sig")
    res = runner.invoke(cli, ["mail", str(survey), "receipt", "--send"])
    assert "[送信] 区民課 <kumin@example.lg.jp>" in res.output and "送信済みのため省略 1 通" in res.output
    assert [m["To"].addresses[0].addr_spec for m in inbox.messages] == [
        "zaisei@example.lg.jp", "kumn@example.lg.jp", "kumin@example.lg.jp"]
