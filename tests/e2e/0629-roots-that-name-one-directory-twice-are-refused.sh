#!/usr/bin/env bash
# Protection is decided by object (SPEC §5), which needs each directory
# entry to have one name below the allowed roots.  A second root that is a
# symbolic link, or a bind mount, to a directory inside the first gives the
# same files a second name: under it an exempt dataset or a hold written on
# the first name was not seen, and a hard link to a file outside every
# root looked covered, so the outside file was truncated.  Such roots are
# refused by every command (exit 2), naming both, and nothing is touched;
# nested roots named the same way as they lie stay fine.
. "$(dirname "$0")/lib.sh"
setup() {	# ROOT2
	rm -rf "$T/srv" "$T/outside"
	mkdir -p "$T/srv/edtech/exports/research" "$T/outside"
	mkdata "$T/srv/edtech/exports/research/agg.csv" DEIDENTIFIED
	echo "PAYROLL, not student data" >"$T/outside/payroll.txt"
	ln "$T/outside/payroll.txt" "$T/srv/edtech/exports/report.csv"
	mkdir -p "$1"
	sed -i "s|^allowed_roots = .*|allowed_roots = $T/srv/edtech $1|" "$T/lethe.conf"
	mkpolicy acme 'method = overwrite' <<P
[dataset "exports"]
path = $1/**
categories = Assessment
[dataset "mirror"]
path = $T/srv/edtech/exports/*.csv
categories = Assessment
[dataset "research"]
path = $T/srv/edtech/exports/research/**
deidentified = yes
P
}
refused() {	# WHAT ROOT2
	expect_exit 2 L check >"$T/out" 2>&1
	grep -q "allowed roots '$T/srv/edtech' and '$2' reach the same directories under two names ('$2' is '$T/srv/edtech/exports'" "$T/out" ||
		die "$1: check: $(cat "$T/out")"
	expect_exit 2 L terminate acme "$(days_ago 1)" >/dev/null 2>&1
	expect_exit 2 L run >"$T/out" 2>&1
	grep -q 'reach the same directories under two names' "$T/out" || die "$1: run: $(cat "$T/out")"
	qgrep -a DEIDENTIFIED "$T/srv/edtech/exports/research/agg.csv" || die "$1: exempt data touched"
	[[ $(cat "$T/outside/payroll.txt") == "PAYROLL, not student data" ]] || die "$1: the outside file changed"
}

mkhost "$T/srv"
# A symbolic link.
ln -s "$T/srv/edtech/exports" "$T/exports"
setup "$T/exports"
refused "symbolic link" "$T/exports"
rm "$T/exports"

# A bind mount.
setup "$T/bk"
if [[ $(id -u) == 0 ]] && mount --bind "$T/srv/edtech/exports" "$T/bk" 2>/dev/null; then
	cleanup_hooks+=("umount -l '$T/bk' 2>/dev/null")
	refused "bind mount" "$T/bk"
	umount -l "$T/bk"
else
	echo "SKIPPED (part): cannot bind-mount here; the symbolic link case ran" >&2
fi

# Control: the same directory as a nested root, named as it lies.
setup "$T/srv/edtech/exports"
L check >"$T/out" 2>&1 || die "nested roots refused: $(cat "$T/out")"
echo ok
