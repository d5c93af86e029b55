#!/usr/bin/env bash
# Issue 14, item 5: after a partial Assessment directive completed, a new
# assessment file the still-running service made the next day was destroyed
# as "reappeared" on every run.  Reappeared now means the same data: a file
# last modified before the directive's disposition (a restore keeps its
# time), or whose content that disposition destroyed.  New data waits for
# its own trigger; plan says what the rule is; a termination, after which
# the agreement holds no data, takes everything it finds.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkpolicy a 'method = overwrite' <<P
[dataset "assessments"]
path = $T/srv/a/assess/*
categories = Assessment
P
mkdir -p "$T/srv/a/assess" "$T/backup"
mkdata "$T/srv/a/assess/a1.csv" MARK-A1 2
mkdata "$T/srv/a/assess/a2.csv" MARK-A2 2
touch -d '3 days ago' "$T/srv/a/assess/a1.csv" "$T/srv/a/assess/a2.csv"
cp -p "$T/srv/a/assess/a1.csv" "$T/backup/a1.csv"
cp -p "$T/srv/a/assess/a2.csv" "$T/backup/a2.csv"
cat >"$T/d.ini" <<D
[directive]
agreement = a
received = $(days_ago 1)
extent = partial
categories = Assessment
nature = destroy
requested_by = J. Smith, Data Privacy Officer
D
L directive add "$T/d.ini" >/dev/null
L run >"$T/run1" 2>&1 || die "run 1: $(cat "$T/run1")"
ncert() { ls "$T/state/certificates" | grep -c '\.cert$'; }
(($(ncert) == 1)) || die "run 1: $(ncert) certificates"
L plan --tsv >"$T/plan"
grep -q 'found again later, only the same data is destroyed' "$T/plan" || die "plan: $(cat "$T/plan")"
# New data made by the continuing service: not the directive's.
mkdata "$T/srv/a/assess/new.csv" MARK-NEW 2
L run >"$T/run2" 2>&1 || die "run 2: $(cat "$T/run2")"
[[ -f $T/srv/a/assess/new.csv ]] || die "new data was destroyed as reappeared"
(($(ncert) == 1)) || die "run 2 issued a certificate"
# A restore (times kept) and a copy of destroyed content (new time): the
# same data, destroyed under one supplementary certificate.
cp -p "$T/backup/a1.csv" "$T/srv/a/assess/a1.csv"
cp "$T/backup/a2.csv" "$T/srv/a/assess/a2-copy.csv"
L run --dry-run --verbose >"$T/dry" 2>&1 || die "dry run: $(cat "$T/dry")"
grep -q 'reappeared after disposition' "$T/dry" || die "dry run: $(cat "$T/dry")"
L run >"$T/run3" 2>&1 || die "run 3: $(cat "$T/run3")"
[[ ! -e $T/srv/a/assess/a1.csv && ! -e $T/srv/a/assess/a2-copy.csv ]] || die "reappeared data left"
[[ -f $T/srv/a/assess/new.csv ]] || die "new data destroyed in run 3"
(($(ncert) == 2)) || die "run 3: $(ncert) certificates"
c=$(grep -l '^trigger = reappeared' "$T"/state/certificates/*.cert)
grep -qx 'files = 2' "$c" || die "supplementary: $(grep '^files' "$c")"
# Once terminated, the agreement holds nothing: the new file goes too.
L terminate a "$(days_ago 0)" >/dev/null
L run >"$T/run4" 2>&1 || die "run 4: $(cat "$T/run4")"
[[ ! -e $T/srv/a/assess/new.csv ]] || die "the termination left data"
echo ok
