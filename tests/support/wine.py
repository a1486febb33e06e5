"""Windows CPython under Wine: how the Windows lane runs it, and the tests that only Windows has.

Wine 8's gaps (not Windows behaviour, measured with Debian's wine 8.0) are worked around here and
in SITECUSTOMIZE, which the lane puts into the Windows *test* environment only; never into the
package or the offline bundle:

- a process needs its standard input from /dev/null, and its standard output and error through
  pipes: a regular Linux file as either fails with WinError 6 before Python has started;
- `platform`'s WMI query crashes on 3.12 (the reply Wine gives is not what _wmi expects), and
  setting `platform._wmi = None` only turns that into an AttributeError on 3.12.9: the query is
  replaced by one that fails as it does where _wmi is missing (OSError), so `platform` falls back
  to sys.getwindowsversion();
- `_winapi.CopyFile2` is missing, so shutil.copy2 fails on 3.12: without the attribute, shutil
  copies the way 3.11 did;
- `multiprocessing.connection.wait()` loses messages: it starts an overlapped zero-byte read on each
  pipe and cancels those that did not complete, and under Wine a message can vanish in between.
  concurrent.futures.ProcessPoolExecutor (generate's workers) then waits for ever: 4 runs in 6 of
  50 tasks on 2 spawned workers hung (measured; 0 in 6 with this workaround). wait() is replaced by
  one that polls the pipes with PeekNamedPipe, which reads nothing. A polled pipe cannot see an
  empty message, and the executor's wake-up call is one: it sends a byte instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ON_WINDOWS = sys.platform == "win32"

windows_only = pytest.mark.skipif(
    not ON_WINDOWS, reason="Windows behaviour: run by the Windows lane of .ci/run (Windows CPython under Wine)")

SITECUSTOMIZE = '''\
"""Wine 8's gaps, worked around for the Windows test environment only (tests/support/wine.py)."""
import platform

def _no_wmi(*args, **kwargs):
    raise OSError("WMI is not available under Wine")

platform._wmi_query = _no_wmi

import _winapi

if hasattr(_winapi, "CopyFile2"):
    del _winapi.CopyFile2

import multiprocessing.connection
import time


def _polling_wait(object_list, timeout=None):
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        ready = []
        for o in object_list:
            if isinstance(o, int):  # a process sentinel or another waitable handle
                if _winapi.WaitForSingleObject(o, 0) == _winapi.WAIT_OBJECT_0:
                    ready.append(o)
                continue
            if getattr(o, "_got_empty_message", False):
                ready.append(o)
                continue
            try:
                if _winapi.PeekNamedPipe(o.fileno())[0]:
                    ready.append(o)
            except OSError:  # closed or broken: recv() says so
                ready.append(o)
        if ready or (deadline is not None and time.monotonic() >= deadline):
            return ready
        time.sleep(0.001)


multiprocessing.connection.wait = _polling_wait

import concurrent.futures.process
import contextlib


def _wakeup(self):
    with getattr(self, "_lock", None) or contextlib.nullcontext():  # 3.12 has a lock, 3.11 not
        if not self._closed:
            self._writer.send_bytes(b"w")


concurrent.futures.process._ThreadWakeup.wakeup = _wakeup
'''


def under_wine() -> bool:
    """True in a Windows process that Wine runs (its ntdll exports wine_get_version)."""
    if not ON_WINDOWS:
        return False
    import ctypes

    return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")


def wine_env(prefix: Path, **extra: str) -> dict[str, str]:
    """The Linux environment for `wine`: its own prefix, no debug chatter, no Mono/Gecko prompt."""
    env = dict(os.environ)
    env.update({"WINEPREFIX": str(prefix), "WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree=;mshtml="})
    env.pop("DISPLAY", None)  # no window may open in CI
    env.update(extra)
    return env


def wine_run(args: list[str], prefix: Path, cwd: Path | None = None, timeout: float = 1800,
             **extra: str) -> subprocess.CompletedProcess:
    """Run a Windows program (`args[0]` a Linux path to the .exe, or `cmd`) under Wine.

    Output comes back through pipes, as text (UTF-8, undecodable bytes replaced).
    """
    return subprocess.run(["wine", *args], cwd=cwd, env=wine_env(prefix, **extra), stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout,
                          encoding="utf-8", errors="replace", check=False)


def wine_stream(args: list[str], prefix: Path, cwd: Path | None = None, encoding: str = "utf-8",
                **extra: str) -> int:
    """Run a Windows program under Wine, its output passed on line by line (decoded from the
    Windows code page `encoding`, written as UTF-8); the exit code.

    The output goes through a pipe whatever this process's own output is (a file, in CI).
    """
    with subprocess.Popen(["wine", *args], cwd=cwd, env=wine_env(prefix, **extra), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.buffer.write(line.decode(encoding, "replace").encode("utf-8"))
            sys.stdout.buffer.flush()
    return proc.returncode


def stop_wineserver(prefix: Path) -> None:
    """End the wineserver of this prefix (it lingers a few seconds after its last process)."""
    subprocess.run(["wineserver", "-k"], env=wine_env(prefix), stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=60)
