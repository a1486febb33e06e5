"""collect: every file in 2_回収/ accounted for, each department given a status.

提出済 (submitted), 要修正 (needs_fix) or 未提出 (missing). Returned files are only read,
each in a worker process (intake/sandbox.py), where it is also checked. A file already
checked against the same definition and master is taken from the ledger instead of being
read again, so a second collect costs little.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from xlsx_tool import problems as P
from xlsx_tool.collect.decide import CollectResult, Evidence, decide
from xlsx_tool.collect.validate import (
    CHECKER_VERSION,
    Names,
    Submission,
    Versions,
    check_submission,
)
from xlsx_tool.define import survey as S
from xlsx_tool.define.master import Loaded
from xlsx_tool.intake.preflight import MAX_FILE_BYTES, OLE_MAGIC, ZIP_MAGIC
from xlsx_tool.intake.reader import read_workbook
from xlsx_tool.intake.sandbox import Pool
from xlsx_tool.ledger import open_ledger
from xlsx_tool.xlsxout import path_too_long

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods", ".zip"}
TEMP_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}
MAX_DEPTH = 32  # folders below 2_回収; deeper ones are listed, not walked


def display(path: str) -> str:
    """A path as text a user can read. A name that is not UTF-8 is most often Shift_JIS (a zip
    made on a Japanese Windows, unpacked elsewhere): shown as such when it decodes, else with �.
    Each folder and file name is read on its own: they may come from different places."""
    return "/".join(_display_part(part) for part in path.split("/"))


def _display_part(path: str) -> str:
    raw = path.encode("utf-8", "surrogateescape")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = raw.decode("cp932")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")
    # cp932 maps stray bytes to private-use characters: then it was not Shift_JIS after all
    if any("\ue000" <= ch <= "\uf8ff" or ord(ch) < 32 for ch in text):
        return raw.decode("utf-8", "replace")
    return text


def skip_reason(name: str, suffix: str) -> str | None:
    """Files that are not submissions by their name: Excel lock files and temp files. Any
    other file is judged by its content (content_reason)."""
    if name.startswith("~$"):
        return "lock-file"
    lower = name.lower()
    if name.startswith((".", "~")) or lower.endswith((".tmp", "~", ".bak")) or lower in TEMP_NAMES:
        return "temp-file"
    return None


def content_reason(path: Path, suffix: str) -> str | None:
    """A file not named as a spreadsheet is read when its first bytes are those of a zip
    package or an OLE container: mail programs save an attachment as ATT00001.bin or noname,
    and a workbook is one whatever its name."""
    if suffix.lower() in SPREADSHEET_SUFFIXES:
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        return "entry-unreadable"
    return None if head.startswith(ZIP_MAGIC) or head.startswith(OLE_MAGIC) else "not-spreadsheet"


# What the reader says of a file not named as a spreadsheet that means "another kind of document",
# not "a broken workbook": such a file is passed over, not reported as a problem.
OTHER_DOCUMENT = {"not-a-workbook", "zip-archive"}


@dataclass
class Entry:
    path: Path
    rel: str  # as shown
    by_content: bool = False  # not named as a spreadsheet; read because of what it holds


def scan_returns(folder: Path, returns: Path) -> tuple[list[Entry], list[dict[str, str]]]:
    """Every file below 2_回収 to read, and every entry passed over with its reason.

    Walked without recursion (a thousand nested folders must not overflow the stack);
    symbolic links are followed once, loops and dangling links are reported.
    """
    files: list[Entry] = []
    skipped: list[dict[str, str]] = []

    def rel(path: Path) -> str:
        try:
            return display(path.relative_to(folder).as_posix())
        except ValueError:
            return display(str(path))

    def skip(path: Path, code: str) -> None:
        skipped.append({"file": rel(path), "code": code, "reason": P.MESSAGES[code][1]})

    if not returns.is_dir():
        return files, skipped
    seen_dirs: set[tuple[int, int]] = set()
    try:
        st = returns.stat()
        seen_dirs.add((st.st_dev, st.st_ino))
    except OSError:
        pass
    stack: list[tuple[Path, int]] = [(returns, 0)]
    while stack:
        current, depth = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            skip(current, "folder-denied")
            continue
        except OSError as exc:
            skip(current, "path-too-long" if path_too_long(exc, current) else "folder-unreadable")
            continue
        subdirs = []
        for e in entries:
            path = Path(e.path)
            try:
                st = os.stat(e.path)  # follows links
            except FileNotFoundError as exc:  # Windows says the same of a path past 260 characters
                skip(path, "path-too-long" if path_too_long(exc, path) else "broken-link")
                continue
            except OSError as exc:
                skip(path, "link-loop" if exc.errno == 40 else "entry-unreadable")
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen_dirs:
                    skip(path, "link-loop")
                elif depth + 1 > MAX_DEPTH:
                    skip(path, "too-deep")
                else:
                    seen_dirs.add(key)
                    subdirs.append((path, depth + 1))
                continue
            if not stat.S_ISREG(st.st_mode):
                skip(path, "special-file")
                continue
            reason = skip_reason(e.name, path.suffix) or content_reason(path, path.suffix)
            if reason:
                skip(path, reason)
            else:
                files.append(Entry(path, rel(path), path.suffix.lower() not in SPREADSHEET_SUFFIXES))
        stack.extend(reversed(subdirs))
    files.sort(key=lambda f: f.rel)
    return files, skipped


def _mtime(path: Path) -> str:
    try:
        return dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    except (OSError, OverflowError, ValueError):
        return ""


class CollectTask:
    """Read and check one returned file, in a worker."""

    def __init__(self, loaded: Loaded, versions: Versions, names: dict[str, str], shown: Names | None = None):
        self.loaded, self.versions, self.names, self.shown = loaded, versions, names, shown or {}

    def run(self, path: Path) -> Submission:
        raw = read_workbook(path, (self.loaded.survey.input_sheet,))
        file = self.names.get(str(path), display(str(path)))
        return check_submission(self.loaded, raw, file, _mtime(path), self.versions, self.shown)

    def failed(self, path: Path, code: str, detail: str) -> Submission:
        sub = Submission(file=self.names.get(str(path), display(str(path))), mtime=_mtime(path))
        sub.add(code, **({"seconds": detail} if code == "reader-timeout" else {"detail": detail}))
        return sub


def _digest(path: Path) -> tuple[str, int]:
    """sha256 and size, read here (no parsing): how the ledger knows a file it has seen."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return "", size
        h = hashlib.sha256()
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
        return h.hexdigest(), size
    except OSError:
        return "", 0


def collect(loaded: Loaded, pool: Pool | None = None, progress: Callable[[int, int], None] | None = None,
            write_outputs: bool = True, workers: int | None = None,
            resubmit_deadline: str | None = None, recheck: bool = False,
            forget_missing: bool = False) -> CollectResult:
    """Read every file in 2_回収 (or take its check from the ledger), decide each department's
    answer, record it all, and write the status workbook and the correction copies.

    `recheck`: check every file again, whatever the ledger holds. `forget_missing`: let go of
    the files the ledger knows that are no longer in 2_回収 (they stay on record).
    """
    survey = loaded.survey
    folder = survey.folder
    entries, skipped = scan_returns(folder, survey.path(S.RETURNS_DIR))
    names = {str(e.path): e.rel for e in entries}
    by_content = {e.rel for e in entries if e.by_content}
    fingerprint = loaded.fingerprint
    submissions: list[Submission] = []
    with open_ledger(survey.path(S.LEDGER_FILE)) as ledger:
        sent = ledger.all_versions()
        versions: Versions = {d: {v: ms for v, (ms, _n) in vs.items()} for d, vs in sent.items()}
        shown: Names = {d: {v: n for v, (_ms, n) in vs.items()} for d, vs in sent.items()}
        first = ledger.first_collects()
        number = ledger.collect_number + 1
        to_read: list[Path] = []
        for e in entries:
            sha, size = _digest(e.path)
            stored = None if recheck or not sha else ledger.cached(
                sha, fingerprint, CHECKER_VERSION, e.rel, os.fsencode(e.path), size, _mtime(e.path))
            if stored is not None:
                submissions.append(stored)
            else:
                to_read.append(e.path)
        done = len(submissions)
        if progress and entries:
            progress(done, len(entries))
        if to_read:
            task = CollectTask(loaded, versions, names, shown)
            own = pool is None
            active = pool or Pool(workers)
            try:
                for path, sub in active.run(to_read, task):
                    sub.path_bytes = os.fsencode(path)
                    sub.first_collect = first.get(sub.sha256) or number
                    submissions.append(sub)
                    done += 1
                    if progress:
                        progress(done, len(entries))
            finally:
                if own:
                    active.close()
        submissions = _other_documents(submissions, by_content, skipped)
        submissions.sort(key=lambda s: s.file)
        withdrawn = ledger.withdraw_missing(s.sha256 for s in submissions) if forget_missing else []
        evidence = Evidence(ledger.on_record(), ledger.stored, {d: list(vs) for d, vs in versions.items()},
                            fingerprint, CHECKER_VERSION, number)
        result = decide(loaded, submissions, skipped, evidence)
        result.withdrawn = withdrawn
        current = {d.department: (d.sha256 or None, d.status) for d in result.departments}
        ledger.record_collect(submissions, current, fingerprint, CHECKER_VERSION)
        history = ledger.history() if write_outputs else []
    if write_outputs:
        from xlsx_tool.collect.corrections import write_corrections
        from xlsx_tool.collect.status_book import status_workbook
        from xlsx_tool.xlsxout import atomic_write

        result.outputs += write_corrections(loaded, result, resubmit_deadline)
        path = survey.path(S.OUTPUT_DIR, survey.status_file)
        atomic_write(path, status_workbook(loaded, result, history))
        result.outputs.insert(0, path)
    return result


def _other_documents(submissions: list[Submission], by_content: set[str],
                     skipped: list[dict[str, str]]) -> list[Submission]:
    """A file read for its content that turned out to be another kind of document (a Word file
    saved as ATT00002.bin) is passed over with what it is, not reported as a bad submission."""
    kept = []
    for s in submissions:
        if s.file in by_content and not s.identified and s.problems and s.problems[0].code in OTHER_DOCUMENT:
            skipped.append({"file": s.file, "code": "other-document", "reason": P.MESSAGES["other-document"][1]})
            continue
        kept.append(s)
    return kept


__all__ = ["CollectResult", "collect", "read_workbook", "scan_returns"]
