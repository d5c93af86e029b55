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
FUZZ_SECONDS=${FUZZ_SECONDS:-5} tests/fuzz/smoke.sh >"$T/smoke.log" 2>&1 || {
	cat "$T/smoke.log"
	die "a fuzz target failed (input kept under build/fuzz/artifacts)"
}
cat "$T/smoke.log"
n=$(grep -c ': [0-9]* runs, no crash$' "$T/smoke.log")
((n >= 6)) || die "only $n fuzz targets ran"
echo "ok"
