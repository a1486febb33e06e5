"""Confinement for untrusted files: worker processes with memory and time limits.

A reader that aborts (a native crash), hangs or eats memory takes down only its worker;
the file becomes a problem line and a fresh worker carries on with the rest. Workers are
started with "spawn" on every platform, so behaviour matches Windows, and live as long as
the pool: a command reads its master and then every returned file through the same
workers, giving each a new task (a picklable object with ``run(path)``) when it changes.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections import deque
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, Protocol

from xlsx_tool.intake.reader import RawWorkbook, read_workbook

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 1536 * 1024 * 1024  # per worker: address space (POSIX), committed memory (Windows)


class Task(Protocol):
    def run(self, path: Path) -> Any: ...

    def failed(self, path: Path, code: str, detail: str) -> Any: ...


class ReadTask:
    """Read a workbook's `_id` sheet and the named sheets (the master: FIRST_SHEET)."""

    def __init__(self, want: tuple[str, ...] = ()):
        self.want = want

    def run(self, path: Path) -> RawWorkbook:
        return read_workbook(path, self.want)

    def failed(self, path: Path, code: str, detail: str) -> RawWorkbook:
        return RawWorkbook(failure=code, detail=detail)


def _limit_memory(limit: int) -> None:
    """Bound this worker's memory: its address space on POSIX, a Job Object on Windows.

    A reader that asks for more gets MemoryError (a failure line for its file), not the machine.
    """
    if sys.platform == "win32":
        _join_memory_job(limit)
        return
    import resource

    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9  # JobObjectExtendedLimitInformation
JOB_OBJECT_LIMIT_PROCESS_MEMORY = 0x100
_JOB: Any = None  # the worker's Job Object: kept open for the life of the process


def _join_memory_job(limit: int) -> None:
    """Put this process into a new Job Object whose processes may commit at most `limit` bytes.

    Windows has no RLIMIT_AS; JOB_OBJECT_LIMIT_PROCESS_MEMORY makes an allocation beyond the
    limit fail (MemoryError in Python). Jobs nest since Windows 8, so a worker started from a
    terminal that is itself in a job still gets its own. On failure the worker runs unbounded, as
    before, bounded only by the pre-flight's size limits.
    """
    global _JOB
    if sys.platform != "win32":  # for the type checker: ctypes.WinDLL exists only there
        return
    import ctypes
    from ctypes import wintypes

    class Basic(ctypes.Structure):  # JOBOBJECT_BASIC_LIMIT_INFORMATION
        _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                    ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                    ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                    ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                    ("SchedulingClass", wintypes.DWORD)]

    class Extended(ctypes.Structure):  # JOBOBJECT_EXTENDED_LIMIT_INFORMATION
        _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", ctypes.c_uint64 * 6),
                    ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                    ("PeakProcessMemoryUsed", ctypes.c_size_t), ("PeakJobMemoryUsed", ctypes.c_size_t)]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    kernel32.CreateJobObjectW.restype = wintypes.HANDLE
    kernel32.CreateJobObjectW.argtypes = [ctypes.c_void_p, wintypes.LPCWSTR]
    kernel32.SetInformationJobObject.argtypes = [wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD]
    kernel32.AssignProcessToJobObject.argtypes = [wintypes.HANDLE, wintypes.HANDLE]
    kernel32.GetCurrentProcess.restype = wintypes.HANDLE
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return
    info = Extended()
    info.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_PROCESS_MEMORY
    info.ProcessMemoryLimit = limit
    if kernel32.SetInformationJobObject(job, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, ctypes.byref(info),
                                        ctypes.sizeof(info)) \
            and kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess()):
        _JOB = job
    else:
        kernel32.CloseHandle(job)


def run_one(task: Task, path: Path) -> Any:
    """Run `task` on one file as a worker does: a failure inside is the file's result."""
    try:
        return task.run(path)
    except MemoryError:
        return task.failed(path, "reader-failed", "メモリの上限を超えました")
    except BaseException as exc:  # noqa: BLE001 - e.g. a PanicException from a native reader
        if isinstance(exc, KeyboardInterrupt):
            raise
        return task.failed(path, "reader-failed", "読み取り処理の内部エラー")


def _serve(conn: Connection, memory: int) -> None:
    _limit_memory(memory)
    task: Task = ReadTask()
    while True:
        try:
            kind, payload = conn.recv()
        except (EOFError, OSError):
            return
        if kind == "stop":
            return
        if kind == "task":
            task = payload
            continue
        try:
            result = run_one(task, Path(payload))
        except KeyboardInterrupt:
            return
        try:
            conn.send(result)
        except (EOFError, OSError):
            return


def _task_message(task: Task) -> bytes:
    """A task as the bytes `conn.recv()` unpickles: pickled once, sent to every worker."""
    return bytes(ForkingPickler.dumps(("task", task)))


class _Worker:
    def __init__(self, ctx, memory: int, task: bytes | None):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, memory), daemon=True)
        self.proc.start()
        child.close()
        self.job: Path | None = None
        self.started = 0.0
        if task is not None:
            self.conn.send_bytes(task)

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(("stop", None))
        except (OSError, ValueError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


class Pool:
    """Worker processes for untrusted files; use as a context manager."""

    def __init__(self, workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
                 memory: int = DEFAULT_MEMORY):
        self.size = max(1, workers or os.cpu_count() or 1)
        self.timeout, self.memory = timeout, memory
        self.ctx = mp.get_context("spawn")
        self.workers: list[_Worker] = []
        self.task: Task = ReadTask()
        self._message: bytes | None = None  # the task pickled, once it is sent

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for w in self.workers:
            w.stop(kill=w.job is not None)
        self.workers = []

    def _ensure(self, count: int) -> None:
        while len(self.workers) < min(self.size, count):
            self.workers.append(_Worker(self.ctx, self.memory, self._task_bytes()))

    def _task_bytes(self) -> bytes:
        if self._message is None:
            self._message = _task_message(self.task)
        return self._message

    def set_task(self, task: Task) -> None:
        self.task, self._message = task, None
        for w in self.workers:
            w.conn.send_bytes(self._task_bytes())

    def run(self, paths: Iterable[Path], task: Task | None = None) -> Iterator[tuple[Path, Any]]:
        """Yield (path, result) for every path, in completion order, each run in a worker."""
        if task is not None:
            self.set_task(task)
        pending = deque(paths)
        if not pending:
            return
        self._ensure(len(pending))
        pool = self.workers
        while pending or any(w.job for w in pool):
            for w in pool:
                if w.job is None and pending:
                    w.job, w.started = pending.popleft(), time.monotonic()
                    w.conn.send(("job", str(w.job)))
            busy = {w.conn: w for w in pool if w.job is not None}
            for ready in wait(list(busy), timeout=min(0.5, self.timeout)):
                w = busy[ready]
                conn = w.conn
                job = w.job
                assert job is not None
                try:
                    result = conn.recv()
                except (EOFError, OSError):  # the worker died (a native crash, or killed)
                    result = self.task.failed(job, "reader-failed", "読み取り処理が異常終了しました")
                    w = self._restart(w)
                w.job = None
                yield job, result
            now = time.monotonic()
            for w in list(pool):
                if w.job is not None and now - w.started > self.timeout:
                    job = w.job
                    self._restart(w)
                    yield job, self.task.failed(job, "reader-timeout", str(int(self.timeout)))

    def _restart(self, w: _Worker) -> _Worker:
        w.stop(kill=True)
        fresh = _Worker(self.ctx, self.memory, self._task_bytes())
        self.workers[self.workers.index(w)] = fresh
        return fresh


def read_all(paths: Iterable[Path], workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
             memory: int = DEFAULT_MEMORY, task: Task | None = None) -> Iterator[tuple[Path, Any]]:
    """Run `task` (default: read the workbook) over `paths` in a pool of its own."""
    with Pool(workers, timeout, memory) as pool:
        yield from pool.run(paths, task or ReadTask())
