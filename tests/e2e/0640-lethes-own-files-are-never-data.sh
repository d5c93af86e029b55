#!/usr/bin/env bash
# Issue 14, item 1: state_dir, or the KEK, under a dataset's glob used to be
# counted as data: the run overwrote the journal and the KEK, and left the
# student data destroyed with no certificate.  Now `check` refuses such a
# policy (exit 2, naming the dataset and lethe's file), every command that
# would act refuses it too, and nothing is touched; and lethe's own files
# are subtracted from any scope by object, should a hard link bring one in.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/a/data.csv" MARK-A 2
mkpolicy a 'method = overwrite' <<P
[dataset "all"]
path = $T/srv/a/**
categories = Other
P
L terminate a "$(days_ago 3)" >/dev/null
# 1. state_dir under the glob.
confset agent state_dir "$T/srv/a/state"
mkdir -p "$T/srv/a/state" && chmod 0700 "$T/srv/a/state"
cp -a "$T/state/." "$T/srv/a/state/"
before=$(snapshot "$T/srv/a")
expect_exit 2 L check >"$T/out" 2>&1
grep -q "dataset all: path '$T/srv/a/\*\*' can reach state_dir $T/srv/a/state; lethe's own files are never data" "$T/out" ||
	die "check: $(cat "$T/out")"
for cmd in "run" "run --dry-run" "plan" "terminate a $(days_ago 1)"; do
	# shellcheck disable=SC2086
	expect_exit 2 L $cmd >"$T/out" 2>&1
	grep -q "can reach state_dir" "$T/out" || die "$cmd: $(cat "$T/out")"
done
[[ $(snapshot "$T/srv/a") == "$before" ]] || die "something under the glob changed"
# 2. The KEK under the glob (state_dir back outside).
confset agent state_dir "$T/state"
rm -rf "$T/srv/a/state"
confset keys kek "$T/srv/a/kek"
before=$(snapshot "$T/srv/a")
expect_exit 2 L check >"$T/out" 2>&1
grep -q "can reach the KEK $T/srv/a/kek" "$T/out" || die "check (KEK): $(cat "$T/out")"
expect_exit 2 L run >"$T/out" 2>&1
[[ $(snapshot "$T/srv/a") == "$before" ]] || die "something under the glob changed"
# 3. Out of reach of every glob, but hard-linked into the dataset: kept.
sed -i '/^\[keys\]/,$d' "$T/lethe.conf"
L check >/dev/null 2>&1 || die "check with everything outside: $(L check 2>&1)"
ln "$T/state/journal" "$T/srv/a/journal-copy.csv"
L run --dry-run --verbose >"$T/dry" 2>&1 || die "dry run: $(cat "$T/dry")"
grep -q "journal-copy.csv: kept: lethe's state; lethe's own files are never data" "$T/dry" ||
	die "dry run: $(cat "$T/dry")"
L run >"$T/run" 2>&1 || die "run: $(cat "$T/run")"
[[ -f $T/srv/a/journal-copy.csv && $(stat -c %h "$T/state/journal") == 2 ]] || die "the journal's link was removed"
L journal verify >/dev/null || die "journal damaged: $(L journal verify 2>&1)"
[[ ! -e $T/srv/a/data.csv ]] || die "the student data was not destroyed"
echo ok
