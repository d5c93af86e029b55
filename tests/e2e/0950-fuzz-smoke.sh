#!/usr/bin/env bash
# The libFuzzer targets of tests/fuzz build and survive a short run each
# (5 seconds; FUZZ_SECONDS overrides) over their seed corpora: no crash,
# leak, undefined behaviour or broken invariant.  `make fuzz-smoke` is the
# longer run.  Skipped where clang with libFuzzer is missing.
. "$(dirname "$0")/lib.sh"
fuzz_cc=${FUZZ_CC:-clang}
command -v "$fuzz_cc" >/dev/null 2>&1 || skip "no $fuzz_cc (clang with libFuzzer is needed)"
cat >"$T/probe.c" <<'C'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }
C
"$fuzz_cc" -fsanitize=fuzzer,address,undefined -o "$T/probe" "$T/probe.c" \
	>"$T/probe.log" 2>&1 || skip "$fuzz_cc cannot build a libFuzzer target: $(head -n 3 "$T/probe.log")"

cd "$LETHE_TOP"
# fuzz.mk guards against being read twice, so this works whether or not
# the Makefile already includes it.
make -s -f Makefile -f tests/fuzz/fuzz.mk FUZZ_CC="$fuzz_cc" fuzz >"$T/build.log" 2>&1 ||
	die "building the fuzz targets failed: $(tail -n 30 "$T/build.log")"
# make check replays every seed and every input a fuzzer ever found
# (tests/fuzz/corpus/NAME) through its target: deterministic, so CI is
# never red by chance.  Mutation fuzzing is `make fuzz-smoke` (and
# LETHE_FUZZ_SECONDS=N here adds N seconds of it per target).
n=0
for b in build/fuzz/fuzz_*; do
	name=$(basename "$b")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	[[ -d $corpus ]] || die "$name has no corpus at $corpus"
	"$b" -runs=0 "$corpus" >"$T/$name.log" 2>&1 ||
		die "$name fails on its corpus: $(tail -n 20 "$T/$name.log")"
	echo "$name: $(ls "$corpus" | wc -l) corpus inputs, no crash"
	n=$((n + 1))
done
((n >= 6)) || die "only $n fuzz targets ran"
if [[ -n ${LETHE_FUZZ_SECONDS:-} ]]; then
	FUZZ_SECONDS=$LETHE_FUZZ_SECONDS tests/fuzz/smoke.sh || die "fuzzing found a crash"
fi
echo "ok"
