"""Worker tasks that misbehave on purpose, for the sandbox tests (imported by spawned workers)."""

from __future__ import annotations

import os
import time
from pathlib import Path


class Misbehave:
    """By file name: crash the process, hang, eat memory, raise, or answer normally."""

    def run(self, path: Path) -> tuple[str, str]:
        name = path.name
        if name.startswith("crash"):
            os._exit(3)  # a native abort takes the process down without a word
        if name.startswith("hang"):
            time.sleep(60)
        if name.startswith("slow"):  # within the time limit, but longer than half of it
            time.sleep(1.5)
        if name.startswith("memory"):
            hoard = []
            while True:
                hoard.append(bytearray(64 * 1024 * 1024))
        if name.startswith("raise"):
            raise ValueError("boom")
        if name.startswith("panic"):
            raise BaseException("a PanicException derives from BaseException")
        return ("ok", name + f":{os.getpid()}")

    def failed(self, path: Path, code: str, detail: str) -> tuple[str, str]:
        return (code, detail)
