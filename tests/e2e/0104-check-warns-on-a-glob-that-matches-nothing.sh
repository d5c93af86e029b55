#!/usr/bin/env bash
# A typo in a dataset's fixed directory would match nothing, and a run
# would certify a disposition of zero files: `lethe check` warns (exit 0,
# it may be a directory not made yet) and names the file, line and path.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdir -p "$T/srv/exports/osde"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' <<POL
[dataset "exports"]
path = $T/srv/exprots/osde/**/*.csv
categories = Assessment
POL
L check >"$T/out" 2>"$T/err" || die "check failed: $(cat "$T/err")"
grep -q "osde.ini:6: warning: dataset exports: $T/srv/exprots/osde does not exist" "$T/err" ||
	die "no warning: $(cat "$T/err")"
grep -q 'OK (1 warning)' "$T/out" || die "summary: $(cat "$T/out")"
sed -i 's/exprots/exports/' "$T/policies.d/osde.ini"
L check >"$T/out" 2>"$T/err" || die "check failed"
[[ ! -s $T/err ]] || die "warning on a good glob: $(cat "$T/err")"
echo ok
