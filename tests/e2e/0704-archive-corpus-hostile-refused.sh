#!/usr/bin/env bash
# The hostile and damaged half of the archive corpus
# (tests/data/archives/refused: a gzip that decompresses to itself, a gzip
# holding a gzip header whose name runs 600 MiB, a bzip2 bomb, tars and
# cpios cut short or with junk after their end, two cpios in one file, a
# crc cpio with a wrong checksum, a zip without its central directory, a
# zip whose members overlap, an encrypted zip, names whose ".." escapes or
# is ambiguous, a cpio link set split by the glob, a GNU incremental
# listing, a global pax header that renames members).  `lethe run
# --dry-run` and `lethe run` each refuse every one of them within seconds,
# by the archive's name and with what is wrong (the message names the path
# once), leave each byte-identical with nothing beside it, issue no
# certificate, and release the state lock.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || skip "python3 not installed"
corpus=$LETHE_TOP/tests/data/archives
mkhost "$T/srv"
mkdir -p "$T/srv/backups"
cp "$corpus"/refused/* "$T/srv/backups/"
(cd "$T/srv/backups" && sha256sum * >"$T/sums")
n=$(ls "$T/srv/backups" | wc -l)
((n >= 15)) || die "only $n hostile archives"
mkpolicy -f osde osde-2024 'lea = Oklahoma State Department of Education' \
	'contact = privacy@sde.example' 'dispose_after_termination = 30d' \
	'certify_within = 10d' 'method = overwrite' <<POL
[dataset "nightly-backups"]
archive = $T/srv/backups/*
members = osde/**
categories = Student Identifiers
POL
expect_exit 0 L terminate osde-2024 "$(days_ago 90)"

# One archive at a time, so that each refusal is the one reported.
mkdir -p "$T/held"
mv "$T/srv/backups"/* "$T/held/"
start=$(date +%s)
while IFS=$'\t' read -r kind name phrase; do
	[[ $kind == refused ]] || continue
	a=$T/srv/backups/$name
	mv "$T/held/$name" "$a"
	t0=$(date +%s)
	for mode in --dry-run ""; do
		expect_exit 1 L run $mode >"$T/out" 2>"$T/err"
		line=$(grep -F "$a: " "$T/err") || die "$name ($mode): no refusal in: $(cat "$T/err")"
		[[ $line == *"$phrase"* ]] || die "$name ($mode): the refusal does not say '$phrase': $line"
		[[ $line == *"refused, archive untouched"* ]] || die "$name ($mode): $line"
		[[ $line != *"$a: $a"* ]] || die "$name ($mode): the path is doubled: $line"
	done
	(($(date +%s) - t0 < 10)) || die "$name: took $(($(date +%s) - t0))s"
	[[ $(ls -A "$T/srv/backups") == "$name" ]] || die "$name: files beside it: $(ls -A "$T/srv/backups")"
	mv "$a" "$T/held/$name"
done <"$corpus/expect.tsv"
took=$(($(date +%s) - start))
(cd "$T/held" && sha256sum -c --quiet "$T/sums") || die "a refused archive changed"
[[ -z $(ls "$T/state/certificates" 2>/dev/null) ]] || die "a certificate was issued"

# All of them at once: the dry run counts each as refused, the run
# touches none of them, and the lock is free right after.
mv "$T/held"/* "$T/srv/backups/"
expect_exit 1 L run --dry-run >"$T/dry.out" 2>"$T/dry.err"
qgrep -F "$T/srv/backups/" <"$T/dry.err" || die "the dry run refuses nothing: $(cat "$T/dry.err")"
expect_exit 1 L run >"$T/run.out" 2>"$T/run.err"
(cd "$T/srv/backups" && sha256sum -c --quiet "$T/sums") || die "a refused archive changed"
[[ $(ls -A "$T/srv/backups" | wc -l) == "$n" ]] || die "files left beside the archives"
timeout 10 "$LETHE" -c "$T/lethe.conf" hold osde-2024 --reason "audit" >/dev/null ||
	die "the state lock is still held"
echo "ok: $n hostile archives refused by name, by the dry run and the run, untouched, in ${took}s"
