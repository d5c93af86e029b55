#!/usr/bin/env bash
# The whole destroy → certify → deliver → checkpoint path and the auditor's
# verify run clean under valgrind's memcheck (no invalid access, no
# uninitialised use, no definite leak), on the optimised build/lethe that
# ships, complementing the ASan/UBSan build the other tests drive.
. "$(dirname "$0")/lib.sh"
command -v valgrind >/dev/null || skip "valgrind not installed"
LETHE="$LETHE_TOP/build/lethe"
[[ -x $LETHE ]] || die "build/lethe missing"
mkhost "$T/srv"
mkpolicy -f vdpa vendor-dpa 'lea = Example Unified School District' \
	'contact = privacy@district.example' "terminated = $(days_ago 3)" \
	'dispose_after_termination = 30d' 'method = overwrite' <<POL
[dataset "uploads"]
path = $T/srv/uploads/**
categories = Student work
POL
for i in 1 2 3; do mkdata "$T/srv/uploads/class$i/essay_$i.txt" "VG-$i" 2; done
vg() {
	valgrind -q --error-exitcode=42 --leak-check=full --errors-for-leak-kinds=definite \
		"$LETHE" -c "$T/lethe.conf" "$@"
}
vg check >/dev/null || die "check under valgrind"
vg plan >/dev/null || die "plan under valgrind"
vg run || die "run under valgrind (exit $?)"
[[ -z $(find "$T/srv/uploads" -type f) ]] || die "files left"
c=$(ls "$T"/state/certificates/*.cert)
vg verify --ca "$T/certs/ca.pem" "$c" >/dev/null || die "verify under valgrind"
vg journal verify >/dev/null || die "journal verify under valgrind"
echo ok
