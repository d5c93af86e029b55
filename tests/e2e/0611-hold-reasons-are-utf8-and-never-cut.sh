#!/usr/bin/env bash
# A hold's reason goes onto the certificate whole, never raw and never cut
# silently: `lethe hold` refuses (exit 2, nothing recorded) a reason that
# is not UTF-8, holds a control character, is longer than 150 bytes, or
# has what an INI reader would take for a comment; a reason of exactly 150
# bytes (multibyte UTF-8, '#' and ';' in it) is listed in full and as
# typed on the certificate, every line of which stays under 200 bytes and
# verifies.  A reason an older lethe recorded raw and long is
# shown made safe, and says where it was cut.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
J=$T/state/journal
mkpolicy a 'lea = District A' 'contact = privacy@a.example' \
	'dispose_after_termination = 30d' 'certify_within = 10d' \
	'method = overwrite' <<POL
[dataset "files"]
path = $T/srv/a/**
categories = Enrollment
POL
mkdata "$T/srv/a/f1.csv" "MARK-1" 2
expect_exit 0 L terminate a "$(days_ago 60)" >/dev/null
n=$(wc -l <"$J")
bad=$(printf 'court order \xff\xfe 7')
expect_exit 2 L hold a --reason "$bad" 2>"$T/err"
grep -q 'not valid UTF-8 (byte 13, 0xff)' "$T/err" || die "invalid UTF-8: $(cat "$T/err")"
expect_exit 2 L hold a --reason "$(printf 'overlong \xc0\xaf')" 2>/dev/null
expect_exit 2 L hold a --reason "$(printf 'line one\nline two')" 2>"$T/err"
grep -q 'control character (U+000A' "$T/err" || die "newline: $(cat "$T/err")"
expect_exit 2 L hold a --reason "$(printf 'c1 \xc2\x85 control')" 2>/dev/null
long=$(printf 'x%.0s' $(seq 151))
expect_exit 2 L hold a --reason "$long" 2>"$T/err"
grep -q 'the reason is 151 bytes long; at most 150' "$T/err" || die "long: $(cat "$T/err")"
[[ $(wc -l <"$J") == "$n" ]] || die "a refused reason was recorded"

expect_exit 2 L hold a --reason "subpoena #26-114" 2>"$T/err"
grep -q "a blank is followed by ';' or '#'" "$T/err" || die "comment: $(cat "$T/err")"
expect_exit 2 L hold a --reason " leading blank" 2>/dev/null
[[ $(wc -l <"$J") == "$n" ]] || die "a refused reason was recorded"

# Exactly 150 bytes: "Anordnung für Müller-Lüdenscheidt Nr.#26-114; ..." padded.
r="Anordnung für Müller-Lüdenscheidt Nr.#26-114; Gericht Zürich"
while (($(printf '%s' "$r" | wc -c) < 150)); do r="$r x"; done
r=${r:0:$((${#r} - ($(printf '%s' "$r" | wc -c) - 150)))}
(($(printf '%s' "$r" | wc -c) == 150)) || die "test reason is $(printf '%s' "$r" | wc -c) bytes"
expect_exit 0 L hold a --reason "$r" >"$T/out" || die "150 bytes refused"
expect_exit 0 L release a >/dev/null

# A reason recorded raw by an older lethe: invalid UTF-8 and 200 bytes.
old=$(printf 'old%%FFraw%%0A')$(printf 'y%.0s' $(seq 190))
printf '%s 2026-01-01T00:00:00Z hold id=H-0002 agreement=a reason=%s by=root %064d\n' \
	"$(($(wc -l <"$J") + 1))" "$old" 0 >>"$J"
journal_rechain "$J"
L journal verify >/dev/null || die "journal with the old hold does not verify"
expect_exit 0 L release a --id H-0002 >/dev/null
expect_exit 0 L run >"$T/run" 2>&1 || die "run: $(cat "$T/run")"
c=$(ls "$T"/state/certificates/*.cert)
L verify "$c" >"$T/v" || die "verify: $(cat "$T/v")"
awk 'length($0) >= 200 { exit 1 }' "$c" || die "a certificate line of 200 bytes or more"
holds=$(awk '/^holds(_[0-9]+)? = / { sub(/^holds(_[0-9]+)? = /, ""); printf "%s%s", sep, $0; sep = " " }' "$c")
[[ $holds == *"H-0001 ($r) placed "* ]] || die "reason not whole and as typed on the certificate: $holds"
[[ $holds == *"H-0002 (old?raw "* ]] || die "old reason not made safe: $holds"
[[ $holds == *"... [cut at 150 bytes: the whole reason is in the journal]) placed"* ]] ||
	die "old long reason cut silently: $holds"
LC_ALL=C grep -q $'[\x80-\xff]' <<<"${holds//ü/}" && die "raw bytes on the certificate: $holds"
iconv -f UTF-8 -t UTF-8 "$c" >/dev/null || die "the certificate is not UTF-8"
echo ok
