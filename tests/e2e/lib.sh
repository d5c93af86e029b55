# lib.sh: shared by end-to-end and forensic tests.  Source it first.
# Gives: $LETHE (the sanitized binary), $T (a fresh temp dir, removed on
# exit), mkhost (config + CA + sendmail in $T), mkconf and confset (the
# config alone), mkpolicy (an agreement), L (runs lethe), mkdata, snapshot,
# die, skip, expect_exit, qgrep, intents, certs_files.  tests/README says
# how to write a test with them.
set -euo pipefail
: "${LETHE_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${LETHE:=$LETHE_TOP/build/san/lethe}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:exitcode=99}"
# As root, lethe trusts only files below directories that root alone can
# write (StrictModes, lethe.conf(5)); /tmp is writable by everyone, so the
# tests' hosts live under a root-owned, 0755 base instead (set
# LETHE_TEST_BASE to choose another; it must pass the same rule).
if [[ $(id -u) == 0 ]]; then
	test_base=${LETHE_TEST_BASE:-/var/lib/lethe-tests}
	install -d -m 0755 -o root -g root "$test_base"
else
	test_base=${TMPDIR:-/tmp}
fi
T=$(mktemp -d "$test_base/lethe-e2e.XXXXXX")
cleanup_hooks=()
cleanup() {
	local h
	for h in "${cleanup_hooks[@]}"; do eval "$h" || true; done
	rm -rf "$T"
}
trap cleanup EXIT
die() { echo "FAIL: $*" >&2; exit 1; }
# qgrep ARGS...: `grep -q ARGS` over all of stdin.  Under pipefail, piping
# into grep -q is a flake: grep exits at its first match, the writer dies of
# SIGPIPE and the pipeline fails.  qgrep reads everything first.
qgrep() { local in; in=$(cat); grep -q "$@" <<<"$in"; }
keep_on_fail() { trap - EXIT; echo "kept $T"; }
skip() { echo "SKIPPED: $*"; exit 77; }
# expect_exit CODE CMD...: runs CMD, fails the test unless it exits CODE.
expect_exit() {
	local want=$1 rc=0; shift
	"$@" || rc=$?
	[[ $rc == "$want" ]] || die "expected exit $want, got $rc: $*"
}
# Dates relative to today (UTC), as tests must never hard-code "today".
days_ago() { date -u -d "-$1 days" +%F; }
days_ahead() { date -u -d "+$1 days" +%F; }

# mkhost ROOT...: a vendor host in $T: lethe.conf with the given allowed
# roots (default $T/srv), state in $T/state, policies in $T/policies.d, a
# throwaway CA in $T/certs (certs/mkca), and a sendmail stand-in that keeps
# each message it accepts in $T/mail/N.eml.  Defines L (runs lethe).
mkhost() {
	mkdir -p "$T/mail" "$T/bin"
	"$LETHE_TOP/certs/mkca" --vendor "Example Learning, Inc." --host test-host \
		"$T/certs" >/dev/null 2>&1 || die "certs/mkca failed"
	cat >"$T/bin/sendmail" <<SM
#!/bin/sh
n=\$(ls "$T/mail" | wc -l)
cat > "$T/mail/\$((n + 1)).eml"
SM
	chmod +x "$T/bin/sendmail"
	mkconf "$@"
}
# mkconf [--bare] [ROOT...]: writes $T/lethe.conf and makes the policy
# directory and the roots: [agent] with state_dir $T/state, policy_dir
# $T/policies.d and the allowed roots (default $T/srv), and [vendor].
# Without --bare also host = test-host, [signing] (the CA mkhost makes in
# $T/certs) and [notify] (its sendmail stand-in).  --bare is enough for
# commands that neither sign nor mail (plan, terminate, hold, seal...).
# Change one setting afterwards with confset.
mkconf() {
	local bare=0 roots
	[[ ${1:-} == --bare ]] && { bare=1; shift; }
	roots=("$@")
	((${#roots[@]})) || roots=("$T/srv")
	mkdir -p "$T/policies.d" "${roots[@]}"
	{
		printf '[agent]\nstate_dir = %s\npolicy_dir = %s\n' "$T/state" "$T/policies.d"
		printf 'allowed_roots = %s\n' "${roots[*]}"
		((bare)) || printf 'host = test-host\n'
		printf '[vendor]\nname = Example Learning, Inc.\ncontact = privacy@example.com\n'
		((bare)) || printf '[signing]\nkey = %s\ncert = %s\nchain = %s\n' \
			"$T/certs/agent.key" "$T/certs/agent.pem" "$T/certs/ca.pem"
		((bare)) || printf '[notify]\nsendmail = %s\nfrom = privacy@example.com\n' \
			"$T/bin/sendmail"
	} >"$T/lethe.conf"
}
# confset SECTION KEY VALUE: sets KEY = VALUE in [SECTION] of $T/lethe.conf:
# the key's line is replaced where it is, else the key is added at the end
# of the section, else the section is added at the end of the file.
#   confset signing tsa_command "$T/certs/tsa-command"
confset() {
	local f=$T/lethe.conf out
	out=$(awk -v sec="[$1]" -v key="$2" -v val="$3" '
		function add() { if (!done) { print key " = " val; done = 1 } }
		/^\[/ { if (in_sec) add(); in_sec = ($0 == sec); seen += in_sec
			print; next }
		in_sec && index($0, key) == 1 && substr($0, length(key) + 1) ~ /^[ \t]*=/ {
			add(); next }
		{ print }
		END { if (in_sec) add(); else if (!seen) { print sec; add() } }' "$f") ||
		die "confset $*: cannot edit $f"
	printf '%s\n' "$out" >"$f"
}
L() { "$LETHE" -c "$T/lethe.conf" "$@"; }
# mkpolicy [-f FILE] ID [LINE]...: writes $T/policies.d/ID.ini (FILE.ini
# with -f): an [agreement] with id, lea ("ID District") and contact
# (dpo@ID.example), then the given lines ("method = overwrite"; a "lea = ..."
# or "contact = ..." line replaces the default), a blank line, then stdin
# (the [dataset "NAME"] sections).  Example:
#   mkpolicy acme 'dispose_after_termination = 30d' <<P
#   [dataset "all"]
#   path = $T/srv/acme/**
#   categories = Other
#   P
mkpolicy() {
	local file= id line lea contact rest=()
	[[ $1 == -f ]] && { file=$2; shift 2; }
	id=$1
	shift
	lea="$id District" contact="dpo@$id.example"
	for line in "$@"; do
		case $line in
		"lea = "*) lea=${line#lea = } ;;
		"contact = "*) contact=${line#contact = } ;;
		*) rest+=("$line") ;;
		esac
	done
	{
		printf '[agreement]\nid = %s\nlea = %s\ncontact = %s\n' "$id" "$lea" "$contact"
		for line in ${rest[@]+"${rest[@]}"}; do printf '%s\n' "$line"; done
		echo
		cat
	} >"$T/policies.d/${file:-$id}.ini"
}
# intents: how many files the dispositions set out to overwrite, each once
# (work/ID/intents lines with distinct numbers, all dispositions); fails
# when a number repeats.
intents() {
	local f n=0 u
	for f in "$T"/state/work/*/intents; do
		[[ -e $f ]] || continue
		u=$(cut -f1 "$f" | sort | uniq -d)
		[[ -z $u ]] || die "$f: file numbers repeat: $u"
		n=$((n + $(wc -l <"$f")))
	done
	echo "$n"
}
# certs_files AGREEMENT: the sum of files = over its certificates.
certs_files() {
	local n=0 f
	for f in "$T"/state/certificates/"$1"-*.cert; do
		[[ -e $f ]] || continue
		n=$((n + $(sed -n 's/^files = //p' "$f")))
	done
	echo "$n"
}
# A file of N KiB holding a unique marker line repeated.
mkdata() {	# PATH MARKER [KIB]
	mkdir -p "$(dirname "$1")"
	local i n=${3:-4}
	for ((i = 0; i < n * 16; i++)); do printf '%s %059d\n' "$2" "$i"; done >"$1"
}
# Snapshot of a tree (names, sizes, modes, content digests) for "nothing
# changed" assertions.
snapshot() {
	(cd "$1" && find . -printf '%p %s %m %y\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0r sha256sum) 2>/dev/null
}
# journal_rechain FILE: renumbers a journal's lines and recomputes its hash
# chain, as anyone who can write state_dir could after editing it.
journal_rechain() {
	local f=$1 prev n=0 line text h
	prev=$(printf '%064d' 0)
	while IFS= read -r line; do
		n=$((n + 1))
		text=${line% *}
		text="$n ${text#* }"
		h=$(printf '%s %s' "$prev" "$text" | sha256sum | cut -d' ' -f1)
		printf '%s %s\n' "$text" "$h"
		prev=$h
	done <"$f" >"$f.rechained"
	cat "$f.rechained" >"$f" && rm -f "$f.rechained"
}
