#!/usr/bin/env bash
# Issue 10, item 5: `path = ROOT/acme` (or ROOT/acme/) names a directory; it
# used to match nothing, pass `check`, and be certified as files = 0 while
# every file stayed.  Now `check` refuses it (exit 2, suggesting
# ROOT/acme/**), and so does every command that would act; a directory that
# appears later is refused by run, with nothing certified.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/acme/a.csv" MARK-A 2
for path in "$T/srv/acme" "$T/srv/acme/"; do
	mkpolicy acme 'method = overwrite' <<P
[dataset "all"]
path = $path
categories = Other
P
	expect_exit 2 L check >"$T/check" 2>&1
	grep -q "names a directory.*write $T/srv/acme/\*\*" "$T/check" ||
		die "check ($path): $(cat "$T/check")"
done
# A path naming a directory created after `check` passed: run refuses.
rm -rf "$T/srv/acme"
mkpolicy acme 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/acme/export
categories = Other
P
L check >/dev/null 2>&1 || die "check with no directory yet"
mkdata "$T/srv/acme/export/a.csv" MARK-A 2
L terminate acme "$(days_ago 2)" >/dev/null
expect_exit 1 L run --dry-run >"$T/dry" 2>&1
grep -q 'names the directory' "$T/dry" || die "dry run: $(cat "$T/dry")"
expect_exit 1 L run >"$T/run" 2>&1
grep -q 'names the directory' "$T/run" || die "run: $(cat "$T/run")"
[[ -f $T/srv/acme/export/a.csv ]] || die "a file was destroyed"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "a certificate was issued"
echo ok
