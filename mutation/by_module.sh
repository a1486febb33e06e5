#!/bin/bash
# Mutation testing one module at a time, cheapest first, each finished before the next, so that
# a stopped run still leaves whole modules judged. Then: python mutation/score.py
# Run from the repository root (mutmut reads [tool.mutmut] from ./pyproject.toml).
set -u
mkdir -p mutants
modules="wareki textnorm ledger summarize.wording summarize.report summarize.tally collect.decide define.schema
         intake.preflight define.departments define.survey forms.layout define.master collect.validate intake.reader"
for m in ${1:-$modules}; do
  echo "$(date +%T) $m"
  mutmut run --max-children "${MUTMUT_CHILDREN:-2}" "xlsx_tool.$m.*" > "mutants/run-$m.log" 2>&1 || echo "  mutmut stopped (see mutants/run-$m.log)"
done
