"""The two published reports the tool reproduces (../shared/reference/, beside the repository).

They are the specification of the report text, not fixtures of ours: they live outside the
repository. A test that compares against them skips with the reason where they are absent,
except under CI=true, where a missing reference is a failure (a skipped comparison would let
the wording drift unnoticed). $XLSX_TOOL_REFERENCE names another folder holding them.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

FOLDER = Path(os.environ.get("XLSX_TOOL_REFERENCE") or Path(__file__).resolve().parents[3] / "shared" / "reference")
REPORT_2025 = "000_9b3ef0f0b9a2c4da.txt"  # 「板橋区 ICT推進・活用計画2025」令和3年度実績報告
REPORT_2020 = "004_bfa03a1c53336e68.txt"  # 「板橋区ICT推進・活用計画2020」令和元年度実績報告


def reference_path(name: str) -> Path:
    """The reference report's text, or a skip (a failure under CI=true) when it is missing."""
    import pytest

    path = FOLDER / name
    if not path.is_file():
        reason = f"reference report not found: {path} (set XLSX_TOOL_REFERENCE to its folder)"
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but " + reason, pytrace=False)
        pytest.skip(reason)
    return path


def norm(text: object) -> str:
    """The reports' text comes from PDFs: spacing and character widths vary ('令和 3 年度',
    '（3）' / '(1)', '＜主な成果＞' / '<主な成果>'): compare NFKC-normalised without white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))
