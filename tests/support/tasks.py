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
        if name.startswith("joblimit"):  # the memory limit of the Job Object this worker is in
            return ("ok", str(job_memory_limit()))
        if name.startswith("raise"):
            raise ValueError("boom")
        if name.startswith("panic"):
            raise BaseException("a PanicException derives from BaseException")
        return ("ok", name + f":{os.getpid()}")

    def failed(self, path: Path, code: str, detail: str) -> tuple[str, str]:
        return (code, detail)


def job_memory_limit() -> int | None:
    """Windows: the per-process memory limit of the Job Object this process is in (0: none set),
    or None when it is in no job."""
    import ctypes
    from ctypes import wintypes

    from xlsx_tool.intake import sandbox

    info = (ctypes.c_byte * 144)()  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION on 64-bit Windows
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    in_job = wintypes.BOOL()
    if not kernel32.IsProcessInJob(wintypes.HANDLE(kernel32.GetCurrentProcess()), None, ctypes.byref(in_job)) \
            or not in_job.value:
        return None
    kernel32.QueryInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p,
                                                   wintypes.DWORD, ctypes.c_void_p]
    if not kernel32.QueryInformationJobObject(None, sandbox.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
                                              info, ctypes.sizeof(info), None):
        return None
    flags = int.from_bytes(bytes(info[16:20]), "little")  # BasicLimitInformation.LimitFlags
    if not flags & sandbox.JOB_OBJECT_LIMIT_PROCESS_MEMORY:
        return 0
    return int.from_bytes(bytes(info[112:120]), "little")  # ProcessMemoryLimit
