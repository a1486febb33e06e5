"""The Windows lane of CI: the official embeddable CPython 3.11 and 3.12 under Wine.

For each version: the project's wheel and its dependencies (plus the pure-Python test tools) are
installed into that Python from Linux, `xlsx-tool demo` runs under a non-Japanese code page (where
a non-ASCII strftime format raised on 3.11), and the suite runs under the users' code page (cp932)
except what needs LibreOffice or python-calamine (markers `libreoffice` and `calamine`). The suite
runs from a copy of tests/, templates/ and examples/ without the package beside them, so it tests
the installed wheel. Wine 8's own gaps are worked around in the test environment only
(tests/support/wine.py SITECUSTOMIZE).

    python .ci/windows_lane.py --work DIR [--versions 3.11 3.12] [-- pytest arguments]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "packaging" / "windows"), str(ROOT)]

import embed  # noqa: E402

from tests.support.wine import SITECUSTOMIZE, stop_wineserver, wine_run, wine_stream  # noqa: E402

# Pure-Python test tools, and lxml (compiled, win_amd64 wheels): openpyxl uses it when present,
# and python-docx needs it, so the lane proves it loads under Windows CPython.
TEST_TOOLS = ["pytest>=8", "hypothesis>=6.100", "aiosmtpd>=1.4", "lxml"]
WINDOWS_ONLY = ["colorama"]  # click's console colours and pytest's; pip skips them from Linux
SUITE_MARKERS = "not libreoffice and not calamine"
JAPANESE = {"LC_ALL": "ja_JP.UTF-8"}  # code page 932, as on the users' PCs
WESTERN = {"LC_ALL": "C.UTF-8"}  # code page 1252


def build_wheel(work: Path) -> Path:
    dist = work / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    embed.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)])
    return next(dist.glob("xlsx_tool-*.whl"))


def test_python(minor: str, work: Path, wheel: Path) -> Path:
    """An embeddable CPython with the wheel, its dependencies and the test tools installed."""
    python = work / f"python{minor}"
    shutil.rmtree(python, ignore_errors=True)
    shutil.copytree(embed.fetch(minor, work / "cache"), python)
    site = embed.enable_site(python)
    embed.install(site, minor, [str(wheel), *TEST_TOOLS, *WINDOWS_ONLY])
    gaps = embed.windows_gaps(site, minor)
    if gaps:
        raise embed.EmbedError("missing on Windows: " + ", ".join(gaps))
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    return python


def suite_copy(work: Path) -> Path:
    """tests/, templates/, examples/ and pyproject.toml without the package; shared/ beside it."""
    suite = work / "suite" / "xlsx-tool"
    shutil.rmtree(suite.parent, ignore_errors=True)
    suite.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("tests", "templates", "examples"):
        shutil.copytree(ROOT / name, suite / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", suite)
    shared = ROOT.parent / "shared"
    if shared.is_dir():  # the reference reports the 2020-style tests compare against
        (suite.parent / "shared").symlink_to(shared)
    return suite


def lane(minor: str, work: Path, wheel: Path, suite: Path, prefix: Path, pytest_args: list[str]) -> bool:
    start = time.monotonic()
    python = test_python(minor, work, wheel)
    exe = str(python / "python.exe")
    lxml = wine_run([exe, "-c", "import lxml.etree, openpyxl; assert openpyxl.LXML; print(lxml.etree.__version__)"],
                    prefix, cwd=work)
    ok = lxml.returncode == 0
    print(f"== Windows CPython {minor}: lxml {lxml.stdout.strip()} (win_amd64 wheel) loads, openpyxl uses it"
          if ok else f"== Windows CPython {minor}: lxml does not load\n{lxml.stderr}", flush=True)
    demo = work / f"demo{minor}"
    shutil.rmtree(demo, ignore_errors=True)
    done = wine_run([exe, "-m", "xlsx_tool", "demo", str(demo)], prefix, cwd=work, **WESTERN)
    print(done.stdout, done.stderr, sep="", flush=True)
    ok = ok and done.returncode == 0 and (demo / "3_集計" / "集計結果.xlsx").is_file()
    print(f"== Windows CPython {minor}: demo (code page 1252) {'ok' if ok else 'FAILED'}", flush=True)
    cmd = [exe, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-m", SUITE_MARKERS, *pytest_args]
    code = wine_stream(cmd, prefix, cwd=suite, encoding="cp932", CI="true", **JAPANESE)
    ok = ok and code == 0
    print(f"== Windows CPython {minor}: suite {'ok' if code == 0 else 'FAILED'}"
          f" ({time.monotonic() - start:.0f} s)", flush=True)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--versions", nargs="+", default=["3.11", "3.12"])
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    prefix = work / "wine"  # a prefix of its own, made on first use
    wheel = build_wheel(work)
    suite = suite_copy(work)
    results = {}
    try:
        for minor in args.versions:
            results[minor] = lane(minor, work, wheel, suite, prefix, args.pytest_args)
    finally:
        stop_wineserver(prefix)
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
