#!/usr/bin/env bash
# No test pipes into `grep -q`: under pipefail that is a flake (grep exits
# at its first match, the writer dies of SIGPIPE, the pipeline fails).
# Capture the output first, or use lib.sh's qgrep, which reads it all.
. "$(dirname "$0")/lib.sh"
out=$(grep -rnE '[^|]\|[[:space:]]*grep[[:space:]]+(-[a-zA-Z]*q|--quiet)' \
	"$LETHE_TOP/tests" "$LETHE_TOP/bench" --include='*.sh' 2>/dev/null || true)
[[ -z $out ]] || die "pipes into grep -q (use qgrep): $out"
# And qgrep itself is the kind that cannot flake: a writer of 1 MiB whose
# first line matches still succeeds under pipefail.
for _ in 1 2 3; do
	{ echo match; seq 200000; } | qgrep match || die "qgrep failed on a long input"
done
