#!/usr/bin/env bash
# Issue 10, item 1: a file outside allowed_roots, hard-linked into a
# dataset, is refused by object however many names and datasets reach it:
# two overlapping datasets of the agreement, and nested allowed roots,
# both used to count the one name twice and truncate the outside file to 0
# bytes.  The outside file stays byte-identical, the refusal names it, the
# rest is destroyed and certified as partial, and a dry run says the same.
. "$(dirname "$0")/lib.sh"
for variant in two-datasets nested-roots; do
	rm -rf "${T:?}"/*
	if [[ $variant == nested-roots ]]; then
		mkhost "$T/srv" "$T/srv/acme"
	else
		mkhost "$T/srv"
	fi
	mkdata "$T/outside/p.txt" KEEP-OUTSIDE 4
	mkdata "$T/srv/acme/x/a.csv" MARK-A 2
	ln "$T/outside/p.txt" "$T/srv/acme/x/hard.csv"
	before=$(sha256sum <"$T/outside/p.txt")
	if [[ $variant == nested-roots ]]; then
		mkpolicy acme 'method = overwrite' <<P
[dataset "everything"]
path = $T/srv/acme/**
categories = Other
P
	else
		mkpolicy acme 'method = overwrite' <<P
[dataset "everything"]
path = $T/srv/acme/**
categories = Other

[dataset "exports"]
path = $T/srv/acme/x/*.csv
categories = Assessment
P
	fi
	L terminate acme "$(days_ago 5)" >/dev/null
	expect_exit 1 L run --dry-run --verbose >"$T/dry" 2>&1
	grep -q "hard.csv: refused: 2 hard links, 1 of them in this disposition" "$T/dry" ||
		die "$variant: dry run does not name the refused link: $(cat "$T/dry")"
	grep -q 'would destroy 1 files' "$T/dry" || die "$variant: dry run count: $(cat "$T/dry")"
	expect_exit 1 L run >"$T/run" 2>&1
	[[ $(sha256sum <"$T/outside/p.txt") == "$before" ]] ||
		die "$variant: the file outside the roots changed"
	[[ $(stat -c %h "$T/outside/p.txt") == 2 && -f $T/srv/acme/x/hard.csv ]] ||
		die "$variant: a name of the outside file was removed"
	[[ ! -e $T/srv/acme/x/a.csv ]] || die "$variant: the rest was not destroyed"
	grep -q 'hard.csv: refused' "$T/run" || die "$variant: run does not name it: $(cat "$T/run")"
	[[ $(certs_files acme) == 1 ]] || die "$variant: certified $(certs_files acme) files, destroyed 1"
	grep -qx 'result = partial' "$T"/state/certificates/acme-*.cert || die "$variant: not partial"
	# Run again: nothing left to destroy, the refusal is said again, and no
	# empty disposition is started.
	n=$(grep -c ' disposition-start ' "$T/state/journal")
	expect_exit 1 L run >"$T/run2" 2>&1
	grep -q 'not started: 1 refused' "$T/run2" || die "$variant: run 2: $(cat "$T/run2")"
	(($(grep -c ' disposition-start ' "$T/state/journal") == n)) || die "$variant: an empty disposition was started"
	L plan --tsv >"$T/plan" || true
	grep -q 'blocked: 1 refused' "$T/plan" || die "$variant: plan does not say why: $(cat "$T/plan")"
done
echo ok
