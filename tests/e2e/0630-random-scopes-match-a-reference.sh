#!/usr/bin/env bash
# Issue 10: random policies (overlapping datasets, exemptions, holds, hard
# links inside and outside the roots, symlinks, nested roots) over random
# trees.  For each seed the names `run --dry-run --verbose` lists, the names
# `run` removes from the disk, and a reference computed in Python from the
# written rules of SPEC §5 "Scope" (tests/e2e/scope_model.py) must be the
# same set, no kept byte may change, and the certificates' `files` must add
# up to it.  LETHE_SCOPE_SEEDS=N runs N more random seeds; the seeds that
# once found a bug stay in the list below as regression cases.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 is needed for the reference"
regressions=(22660011 1012)
n=${LETHE_SCOPE_SEEDS:-40}
seeds=("${regressions[@]}")
base=$((RANDOM * 1000))
for ((i = 0; i < n; i++)); do seeds+=($((base + i))); done
top=$T
T=$top/host
mkdir -p "$T"
mkhost "$T/srv"
T=$top
python3 "$LETHE_TOP/tests/e2e/scope_model.py" "$LETHE" "$T" "${seeds[@]}" >"$T/out" 2>&1 ||
	die "$(tail -n 40 "$T/out")"
echo "ok: ${#seeds[@]} seeds ($(head -n 1 "$T/out" | cut -d: -f1) ... $(tail -n 1 "$T/out" | cut -d: -f1))"
