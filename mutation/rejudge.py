"""Forget the verdict of every mutant that was not killed, so that the next `mutmut run` judges
it again with the tests as they are now.

mutmut keeps a mutant's verdict until its function changes: a test written for a survivor does
not count until the survivor is run again. Run from the repository, then `mutmut run`:

    python mutation/rejudge.py && mutmut run && python mutation/score.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

UNKILLED = {0, 5, 33, 35}  # survived, no tests (pytest's and mutmut's), suspicious


def main() -> int:
    metas = sorted(Path("mutants").rglob("*.meta"))
    if not metas:
        print("mutants/ がありません。リポジトリの最上位で実行してください。", file=sys.stderr)
        return 1
    count = 0
    for meta in metas:
        data = json.loads(meta.read_text(encoding="utf-8"))
        verdicts = data["exit_code_by_key"]
        again = [name for name, code in verdicts.items() if code in UNKILLED]
        for name in again:
            verdicts[name] = None
        if again:
            meta.write_text(json.dumps(data), encoding="utf-8")
            count += len(again)
    print(f"{count} mutants will be judged again")
    return 0


if __name__ == "__main__":
    sys.exit(main())
