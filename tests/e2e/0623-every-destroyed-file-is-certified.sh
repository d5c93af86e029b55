#!/usr/bin/env bash
# Issue 10, item 4: a disposition that destroys files and then fails (here:
# a filesystem mounted inside the dataset, which lethe never crosses) used
# to leave those files on no certificate; the retry certified files = 0.
# Now the failed disposition is certified as partial (what it destroyed,
# why it failed, what remains), the next run finishes the rest under a
# certificate of its own, and for the agreement the sum of `files` over its
# certificates equals the files destroyed, checked against the disk.
. "$(dirname "$0")/lib.sh"
[[ $(id -u) == 0 ]] || skip "needs root to mount a tmpfs inside the dataset"
mkhost "$T/srv"
for i in $(seq 1 12); do mkdata "$T/srv/acme/a/f$i.csv" "MARK-A$i" 1; done
mkdir -p "$T/srv/acme/m"
mount -t tmpfs -o size=1m lethe-test "$T/srv/acme/m" || skip "cannot mount a tmpfs"
cleanup_hooks+=("umount '$T/srv/acme/m' 2>/dev/null")
for i in 1 2; do mkdata "$T/srv/acme/m/g$i.csv" "MARK-M$i" 1; done
for i in $(seq 1 5); do mkdata "$T/srv/acme/z/h$i.csv" "MARK-Z$i" 1; done
mkpolicy acme 'method = overwrite' 'certify_within = 10d' <<P
[dataset "all"]
path = $T/srv/acme/**
categories = Other
P
L terminate acme "$(days_ago 3)" >/dev/null
expect_exit 1 L run >"$T/run1" 2>&1
grep -q 'mount point' "$T/run1" || die "run 1 does not say why: $(cat "$T/run1")"
left=$(find "$T/srv/acme" -path "$T/srv/acme/m" -prune -o -type f -print | wc -l)
((left == 0)) || die "run 1 left $left reachable files"
c=$(ls "$T"/state/certificates/acme-*.cert)
grep -qx 'result = partial' "$c" || die "run 1's certificate is not partial"
grep -qx 'files = 17' "$c" || die "run 1 certified $(grep '^files' "$c"), destroyed 17"
grep -A3 '^exceptions = ' "$c" | tr '\n' ' ' | qgrep 'PARTIAL: .*mount point' ||
	die "exceptions: $(grep -A2 '^exceptions' "$c")"
L verify --ca "$T/certs/ca.pem" "$c" >"$T/v" || die "verify: $(cat "$T/v")"
# The plan shows the trigger still undone, with the failure.
L plan --tsv >"$T/plan" || true
awk -F'\t' '$2 == "termination" { print $6 }' "$T/plan" | qgrep -x due || die "plan: $(cat "$T/plan")"
# A second run changes nothing while the mount is there, and starts no
# empty disposition.
n=$(grep -c ' disposition-start ' "$T/state/journal")
expect_exit 1 L run >"$T/run2" 2>&1
(($(grep -c ' disposition-start ' "$T/state/journal") == n)) || die "run 2 started a disposition"
# The admin unmounts (and with it the files under it are out of this
# host's reach); the next run finishes, with a complete certificate.
umount "$T/srv/acme/m"
L run >"$T/run3" 2>&1 || die "run 3: $(cat "$T/run3")"
(($(ls "$T"/state/certificates/acme-*.cert | wc -l) == 2)) || die "run 3: no certificate"
grep -lx 'result = complete' "$T"/state/certificates/acme-*.cert >/dev/null || die "no complete certificate"
[[ $(certs_files acme) == 17 ]] || die "certificates say $(certs_files acme) files; 17 were destroyed"
# Every file the dispositions set out to destroy lies under a certificate.
destroyed=$(intents)
((destroyed == 17)) || die "records: $destroyed files set out to destroy"
L plan --tsv >"$T/plan" || die "plan: $(cat "$T/plan")"
awk -F'\t' '$2 == "termination" { print $6 }' "$T/plan" | qgrep -E -x 'certified|delivered' ||
	die "plan after: $(cat "$T/plan")"
echo ok
