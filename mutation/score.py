"""The mutation score of the last `mutmut run`, per module and overall.

Run from the repository after `mutmut run` (it reads `mutmut results --all true`):

    python mutation/score.py

Killed means a test failed (or the run timed out: an endless loop is caught too; the timeouts are
also shown on their own, since a survivor whose tests outlast the CPU limit looks the same). Surviving
mutants listed in mutation/equivalent.txt (name, then the reason) behave like the original and
are left out of the total; a listed mutant that was killed is reported as a stale entry. "not checked" mutants mean the run was stopped before them.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
LINE = re.compile(r"^\s*(?P<name>(?P<module>[\w.]+?)\.x\S*__mutmut_\d+): (?P<status>.+?)\s*$")
CAUGHT = {"killed", "timeout"}


def equivalent() -> dict[str, str]:
    path = HERE / "equivalent.txt"
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            out[name] = reason.strip()
    return out


def main() -> int:
    run = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"],
                         capture_output=True, text=True, encoding="utf-8", check=False)
    same = equivalent()
    stale: list[str] = []
    counts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for line in run.stdout.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        status = m["status"]
        if m["name"] in same:
            if status in ("survived", "timeout"):
                # A listed mutant runs every test that reaches it; one that ran out of time did
                # so because those tests are slow, not because it loops: not caught.
                status = "equivalent"
            elif status in CAUGHT:
                stale.append(m["name"])  # listed, yet a test fails on it: the list is out of date
        counts[m["module"]][status] += 1
    if not counts:
        print("mutmut の結果がありません。先に mutmut run を実行してください。", file=sys.stderr)
        return 1
    total = collections.Counter[str]()
    print(f"{'module':34} {'caught':>7} {'(timeout)':>9} {'survived':>8} {'no tests':>8} {'equiv.':>6} "
          f"{'unrun':>6} {'score':>6}")
    for module in sorted(counts):
        c = counts[module]
        total.update(c)
        print(_row(module, c))
    print(_row("all", total))
    for name in stale:
        print(f"equivalent.txt lists {name}, but it was killed: remove it from the list", file=sys.stderr)
    return 0


def _row(name: str, c: collections.Counter[str]) -> str:
    caught = sum(c[s] for s in CAUGHT)
    judged = caught + c["survived"] + c["no tests"] + c["suspicious"] + c["segfault"]
    score = f"{100 * caught / judged:5.1f}%" if judged else "    -"
    return (f"{name:34} {caught:7} {c['timeout']:9} {c['survived']:8} {c['no tests']:8} {c['equivalent']:6} "
            f"{c['not checked']:6} {score:>6}")


if __name__ == "__main__":
    sys.exit(main())
