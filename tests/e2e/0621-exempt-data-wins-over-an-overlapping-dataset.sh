#!/usr/bin/env bash
# Issue 10, item 2: a de-identified dataset inside a broader one is kept,
# by object: research/agg.csv, and a file of the broad dataset that is a
# hard link of an exempt file, survive byte-identical; the certificate
# lists research as retained and counts only what was destroyed.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/acme/research/agg.csv" KEEP-RESEARCH 2
mkdata "$T/srv/acme/research/model.bin" KEEP-MODEL 2
ln "$T/srv/acme/research/model.bin" "$T/srv/acme/exports/model-copy.bin" 2>/dev/null ||
	{ mkdir -p "$T/srv/acme/exports"; ln "$T/srv/acme/research/model.bin" "$T/srv/acme/exports/model-copy.bin"; }
mkdata "$T/srv/acme/exports/roster.csv" MARK-ROSTER 2
mkdata "$T/srv/acme/grades.csv" MARK-GRADES 2
keep=$(snapshot "$T/srv/acme/research")
mkpolicy acme 'method = overwrite' <<P
[dataset "everything"]
path = $T/srv/acme/**
categories = Other

[dataset "research"]
path = $T/srv/acme/research/**
deidentified = yes
P
out=$(L check 2>&1) || die "check: $out"
grep -q 'overlaps exempt dataset research' <<<"$out" || die "check does not report the overlap: $out"
L terminate acme "$(days_ago 5)" >/dev/null
L run --dry-run --verbose >"$T/dry" 2>&1 || die "dry run: $(cat "$T/dry")"
grep -q 'would destroy 2 files' "$T/dry" || die "dry run count: $(cat "$T/dry")"
grep -q 'model-copy.bin: kept: de-identified dataset research' "$T/dry" ||
	die "dry run does not keep the link of the exempt file: $(cat "$T/dry")"
L run >"$T/run" 2>&1 || die "run: $(cat "$T/run")"
[[ $(snapshot "$T/srv/acme/research") == "$keep" ]] || die "exempt data changed"
[[ -f $T/srv/acme/exports/model-copy.bin ]] || die "a name of the exempt file was removed"
[[ ! -e $T/srv/acme/exports/roster.csv && ! -e $T/srv/acme/grades.csv ]] || die "due data not destroyed"
c=$(ls "$T"/state/certificates/acme-*.cert)
grep -q '^retained = research (de-identified' "$c" || die "retained: $(grep '^retained' "$c")"
[[ $(certs_files acme) == 2 ]] || die "certified $(certs_files acme) files, destroyed 2"
L verify --ca "$T/certs/ca.pem" "$c" >/dev/null || die "verify"
echo ok
