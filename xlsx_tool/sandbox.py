"""Confinement for reading untrusted files: worker processes with memory and time limits.

A reader that aborts (a native crash), hangs or eats memory takes down only its worker;
the file becomes a problem line and a fresh worker carries on with the rest. Workers are
started with "spawn" on every platform, so behaviour matches Windows.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from .intake import RawWorkbook, read_workbook

DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY = 1536 * 1024 * 1024  # address space per worker


def _limit_memory(limit: int) -> None:
    try:
        import resource  # POSIX only; on Windows the pre-flight caps are the bound
    except ImportError:
        return
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard == resource.RLIM_INFINITY or hard > limit:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError):
        pass


def _serve(conn: Connection, memory: int, reader: Callable[[Path], Any]) -> None:
    _limit_memory(memory)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            result = reader(Path(job))
        except MemoryError:
            result = RawWorkbook(failure="reader-failed", detail="メモリ上限を超えました")
        except BaseException as exc:  # noqa: BLE001 - e.g. a PanicException from a native reader
            result = RawWorkbook(failure="reader-failed", detail=f"{type(exc).__name__}")
        try:
            conn.send(result)
        except (EOFError, OSError):
            return


class _Worker:
    def __init__(self, ctx, memory: int, reader: Callable[[Path], Any]):
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, memory, reader), daemon=True)
        self.proc.start()
        child.close()
        self.job: Path | None = None
        self.started = 0.0

    def stop(self, kill: bool = False) -> None:
        try:
            if kill:
                self.proc.kill()
            else:
                self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


def read_all(paths: Iterable[Path], workers: int | None = None, timeout: float = DEFAULT_TIMEOUT,
             memory: int = DEFAULT_MEMORY,
             reader: Callable[[Path], Any] = read_workbook) -> Iterator[tuple[Path, Any]]:
    """Yield (path, result) for every path, in completion order, each read in a worker."""
    pending = deque(paths)
    if not pending:
        return
    ctx = mp.get_context("spawn")
    count = max(1, min(workers or os.cpu_count() or 1, len(pending)))
    pool = [_Worker(ctx, memory, reader) for _ in range(count)]
    try:
        while pending or any(w.job for w in pool):
            for w in pool:
                if w.job is None and pending:
                    w.job, w.started = pending.popleft(), time.monotonic()
                    w.conn.send(str(w.job))
            busy = {w.conn: w for w in pool if w.job is not None}
            for conn in wait(list(busy), timeout=0.5):
                w = busy[conn]
                job = w.job
                try:
                    result = conn.recv()
                except (EOFError, OSError):
                    code = w.proc.exitcode
                    result = RawWorkbook(failure="reader-failed",
                                         detail=f"終了コード {code}" if code is not None else "応答なし")
                    pool[pool.index(w)] = w = _restart(w, ctx, memory, reader)
                w.job = None
                yield job, result
            now = time.monotonic()
            for i, w in enumerate(pool):
                if w.job is not None and now - w.started > timeout:
                    job = w.job
                    pool[i] = _restart(w, ctx, memory, reader)
                    yield job, RawWorkbook(failure="reader-timeout", detail=str(int(timeout)))
    finally:
        for w in pool:
            w.stop(kill=w.job is not None)


def _restart(w: _Worker, ctx, memory: int, reader) -> _Worker:
    w.stop(kill=True)
    return _Worker(ctx, memory, reader)
