#!/usr/bin/env bash
# smoke.sh: runs each libFuzzer target for FUZZ_SECONDS seconds (default
# 20) over its seed corpus tests/fuzz/corpus/NAME (NAME is the target
# without "fuzz_"), and prints one line per target:
#     fuzz_policy: 41234 runs, no crash
# Exits 1 if any target crashed, leaked, timed out or broke an invariant;
# the input is then kept as build/fuzz/artifacts/TARGET-crash-... and the
# end of the target's log is shown.  New corpus entries go to a temporary
# directory, never into the seed corpus.
#   tests/fuzz/smoke.sh [fuzz_NAME...]     (default: every build/fuzz/fuzz_*)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${FUZZ_SECONDS:-20}
[[ $secs =~ ^[0-9]+$ ]] || { echo "smoke.sh: FUZZ_SECONDS must be a number" >&2; exit 2; }

# Longest input per target: a little over the largest seed.
max_len() {
	case $1 in
	fuzz_unseal) echo 70000 ;;	# seeds hold a two-chunk stream
	fuzz_archive) echo 32768 ;;
	fuzz_cert | fuzz_journal) echo 16384 ;;
	fuzz_glob) echo 512 ;;		# longer inputs are skipped
	*) echo 8192 ;;
	esac
}

names=("$@")
if ((${#names[@]} == 0)); then
	for b in "$top"/build/fuzz/fuzz_*; do
		[[ -x $b ]] && names+=("$(basename "$b")")
	done
fi
((${#names[@]})) || { echo "smoke.sh: no fuzz targets built (make fuzz)" >&2; exit 2; }

work=$(mktemp -d /tmp/lethe-fuzz-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT
arts="$top/build/fuzz/artifacts"
mkdir -p "$arts"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=0
for name in "${names[@]}"; do
	bin="$top/build/fuzz/$name"
	seeds="$top/tests/fuzz/corpus/${name#fuzz_}"
	log="$work/$name.log"
	[[ -x $bin ]] || { echo "$name: FAILED (not built)"; failed=1; continue; }
	mkdir -p "$work/$name"
	dirs=("$work/$name")
	[[ -d $seeds ]] && dirs+=("$seeds")
	"$bin" -max_total_time="$secs" -max_len="$(max_len "$name")" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$arts/$name-" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if ((rc == 0)) && [[ -n $runs ]]; then
		echo "$name: $runs runs, no crash"
	else
		failed=1
		echo "$name: FAILED (exit $rc)"
		grep -a -E 'invariant failed|ERROR: |SUMMARY: |Test unit written to' "$log" |
			sed 's/^/    /' | head -n 20
		echo "    --- last lines of the log:"
		tail -n 30 "$log" | sed 's/^/    | /'
	fi
done
exit "$failed"
