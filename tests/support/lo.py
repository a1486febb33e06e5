"""Helpers for tests that check generated workbooks with real LibreOffice.

Nothing here imports ``uno``: the UNO bindings live in the system Python
(Debian: /usr/bin/python3 + python3-uno), not in the project's venv, so UNO
work runs in ``lo_fill.py`` as a subprocess of that interpreter.

Typical use in a test::

    from tests.support.lo import libreoffice_or_skip, lo_fill

    def test_fill(tmp_path):
        libreoffice_or_skip()
        res = lo_fill(form, tmp_path / "out.xlsx", {"調査票": {"H4": "達成"}}, ["調査票"])

A clerk's edits (see lo_fill.py for all operations) run before ``fill``::

        lo_fill(form, out, edits=[{"op": "unprotect", "sheet": "調査票"},
                                  {"op": "insert_columns", "sheet": "調査票", "before": "F"},
                                  {"op": "type", "sheet": "調査票", "cell": "H6", "text": "75%"}])

or decorate the test with ``@requires_libreoffice``. Without LibreOffice the
test is skipped, except under CI (``CI=true``) where it fails.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

LO_FILL_SCRIPT = Path(__file__).with_name("lo_fill.py")
TIMEOUT = 180

_PYTHON_CANDIDATES = ("/usr/bin/python3", "/usr/local/bin/python3", "python3")


def find_soffice() -> str | None:
    """Path of the LibreOffice executable ($SOFFICE, soffice or libreoffice on PATH)."""
    env = os.environ.get("SOFFICE")
    if env and (os.path.isfile(env) or shutil.which(env)):
        return shutil.which(env) or env
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _clean_env() -> dict:
    """Environment for the system Python / soffice: without the venv's Python settings."""
    env = dict(os.environ)
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH"):
        env.pop(key, None)
    soffice = find_soffice()
    if soffice:
        env["SOFFICE"] = soffice
    return env


@functools.lru_cache(maxsize=1)
def system_python_with_uno() -> str | None:
    """A python3 that can ``import uno`` ($LO_PYTHON first, then system ones); cached."""
    candidates = []
    if os.environ.get("LO_PYTHON"):
        candidates.append(os.environ["LO_PYTHON"])
    candidates.extend(_PYTHON_CANDIDATES)
    seen = set()
    for cand in candidates:
        path = shutil.which(cand) or cand
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        try:
            r = subprocess.run(
                [path, "-c", "import uno"],
                env=_clean_env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0:
            return path
    return None


def _run(cmd: list[str], timeout: float, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Run cmd in its own process group; on timeout SIGTERM it (so lo_fill.py can
    clean up), then SIGKILL the group, and raise RuntimeError."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                out, err = proc.communicate(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        else:
            out, err = b"", b""
        stderr = (err or b"").decode("utf-8", "replace")
        raise RuntimeError(
            f"timed out after {timeout}s: {' '.join(cmd)}\nstderr:\n{stderr}"
        ) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def lo_fill(
    in_path,
    out_path,
    fill: dict | None = None,
    inspect: list[str] | tuple[str, ...] = (),
    *,
    edits: list[dict] | None = None,
    locale: str | None = None,
    all_validations: bool = False,
    allow_locked: bool = False,
    check: bool = True,
    timeout: float = TIMEOUT,
) -> dict:
    """Open in_path in LibreOffice, apply ``edits`` in order, type ``fill``
    ({sheet: {cell: value}}) into it, inspect the sheets in ``inspect`` (by
    their names after the edits), save as out_path (xlsx) and return
    lo_fill.py's JSON result (see its docstring for the keys and for the edit
    operations, e.g. ``{"op": "unprotect", "sheet": "調査票"}``,
    ``{"op": "insert_columns", "sheet": "調査票", "before": "F"}``,
    ``{"op": "type", "sheet": "調査票", "cell": "G6", "text": "1/2"}``).

    ``locale`` (e.g. "ja-JP") is the locale LibreOffice runs in, which decides
    how "type" input is parsed ("2021/4/1" is a date in ja-JP, text in en-US);
    None keeps the environment's (usually C.UTF-8, i.e. en-US).

    With check=True (default) a result with ok false raises RuntimeError
    carrying the error and stderr; with check=False it is returned as is.
    """
    python = system_python_with_uno()
    if python is None:
        raise RuntimeError("no python3 with the 'uno' module (apt-get install python3-uno)")
    if find_soffice() is None:
        raise RuntimeError("soffice not found (apt-get install libreoffice-calc)")
    spec = {
        "fill": fill or {},
        "inspect": list(inspect),
        "all_validations": all_validations,
        "allow_locked": allow_locked,
        "edits": list(edits or []),
    }
    if locale:
        spec["locale"] = locale
    with tempfile.TemporaryDirectory(prefix="lo_fill_spec_") as tmp:
        spec_path = Path(tmp, "spec.json")
        spec_path.write_text(json.dumps(spec, ensure_ascii=False), encoding="utf-8")
        cmd = [python, str(LO_FILL_SCRIPT), str(Path(in_path)), str(Path(out_path)), str(spec_path)]
        r = _run(cmd, timeout)
    stdout = r.stdout.decode("utf-8", "replace")
    stderr = r.stderr.decode("utf-8", "replace")
    try:
        result = json.loads(stdout)
    except ValueError:
        raise RuntimeError(
            f"lo_fill.py exited {r.returncode} without JSON output\nstdout:\n{stdout}\nstderr:\n{stderr}"
        ) from None
    if check and (r.returncode != 0 or not result.get("ok")):
        raise RuntimeError(
            "lo_fill.py failed (exit {}): {}\nstderr:\n{}".format(
                r.returncode, result.get("error"), stderr
            )
        )
    return result


def lo_edit(in_path, out_path, edits: list[dict], **kwargs) -> dict:
    """lo_fill() with only edits: ``lo_edit(form, out, [{"op": "remove_sheet", "sheet": "_id"}])``.
    Keyword arguments (fill, inspect, locale, check, ...) are passed on."""
    return lo_fill(in_path, out_path, edits=edits, **kwargs)


def convert(path, fmt: str, outdir, *, timeout: float = TIMEOUT) -> Path:
    """``soffice --headless --convert-to fmt --outdir outdir path`` with a private
    temporary profile; returns the written file (e.g. fmt "pdf" -> outdir/NAME.pdf).

    fmt may carry a filter, as in "xlsx:Calc Office Open XML". To round-trip an
    xlsx, use an outdir other than the file's own directory.
    """
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("soffice not found (apt-get install libreoffice-calc)")
    src = Path(path).resolve()
    if not src.is_file():
        raise FileNotFoundError(src)
    out_dir = Path(outdir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    target = out_dir / (src.stem + "." + ext)
    if target == src:
        raise ValueError(f"convert() would overwrite its input {src}; use another outdir")
    if target.exists():
        target.unlink()
    profile = tempfile.mkdtemp(prefix="lo_convert_profile_")
    try:
        # Convert a private copy so a parallel soffice's .~lock file beside the
        # source cannot make the load fail.
        work = Path(profile, "doc")
        work.mkdir()
        copy = work / src.name
        shutil.copyfile(src, copy)
        cmd = [
            soffice,
            "-env:UserInstallation=" + Path(profile, "user").as_uri(),
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            fmt,
            "--outdir",
            str(out_dir),
            str(copy),
        ]
        r = _run(cmd, timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    if r.returncode != 0 or not target.is_file():
        raise RuntimeError(
            "soffice --convert-to {} failed (exit {}) for {}\nstdout:\n{}\nstderr:\n{}".format(
                fmt,
                r.returncode,
                src,
                r.stdout.decode("utf-8", "replace"),
                r.stderr.decode("utf-8", "replace"),
            )
        )
    return target


def convert_many(paths, fmt: str, outdir, *, timeout: float = TIMEOUT) -> list[Path]:
    """convert() for several files in one soffice run (each start costs seconds).

    Files are copied under numbered ASCII names first, so equal names in different folders
    and the console's locale cannot get in the way; results come back in the input order.
    """
    soffice = find_soffice()
    if soffice is None:
        raise RuntimeError("soffice not found (apt-get install libreoffice-calc)")
    out_dir = Path(outdir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    ext = fmt.split(":", 1)[0]
    profile = tempfile.mkdtemp(prefix="lo_convert_profile_")
    try:
        work = Path(profile, "doc")
        work.mkdir()
        copies = []
        for i, p in enumerate(paths):
            src = Path(p).resolve()
            copy = work / f"f{i:03d}{src.suffix}"
            shutil.copyfile(src, copy)
            copies.append(copy)
        cmd = [soffice, "-env:UserInstallation=" + Path(profile, "user").as_uri(), "--headless",
               "--invisible", "--norestore", "--nologo", "--nodefault", "--nolockcheck",
               "--convert-to", fmt, "--outdir", str(work / "out"), *map(str, copies)]
        r = _run(cmd, timeout * 2)
        results = []
        for p, copy in zip(paths, copies, strict=True):
            made = work / "out" / (copy.stem + "." + ext)
            if r.returncode != 0 or not made.is_file():
                raise RuntimeError(f"soffice --convert-to {fmt} failed (exit {r.returncode}) for {p}:\n"
                                   + r.stderr.decode("utf-8", "replace"))
            target = out_dir / (Path(p).stem + "." + ext)
            shutil.copyfile(made, target)
            results.append(target)
        return results
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def libreoffice_missing_reason() -> str | None:
    """Why LibreOffice tests cannot run here, or None if they can."""
    if find_soffice() is None:
        return "LibreOffice (soffice) not found: apt-get install libreoffice-calc python3-uno"
    if system_python_with_uno() is None:
        return "no system python3 can 'import uno': apt-get install python3-uno"
    return None


def libreoffice_or_skip() -> None:
    """Skip the calling test when LibreOffice or its UNO Python is missing;
    fail it instead when running in CI (CI=true), where they must be present."""
    import pytest

    reason = libreoffice_missing_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but " + reason, pytrace=False)
    pytest.skip(reason)


def requires_libreoffice(func):
    """Decorator form of libreoffice_or_skip() for a test function: also marks
    it ``@pytest.mark.libreoffice`` (declared in pyproject.toml), and keeps its
    signature, so fixtures still work."""
    import pytest

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        libreoffice_or_skip()
        return func(*args, **kwargs)

    return pytest.mark.libreoffice(wrapper)
