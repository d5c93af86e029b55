#!/usr/bin/env bash
# Issue 10, item 6: a transfer_to inside the agreement's data (the transfer
# archive would itself be data, destroyed by the next run, forever) or
# reached through a symlink is refused at `directive add` (exit 2, nothing
# recorded) and again by run, before anything is packed or destroyed.
. "$(dirname "$0")/lib.sh"
mkhost "$T/srv"
mkdata "$T/srv/acme/work/essay.txt" MARK-E 2
mkpolicy acme 'method = overwrite' <<P
[dataset "work"]
path = $T/srv/acme/**
categories = Student work
P
directive() {	# TRANSFER_TO
	cat >"$T/d.ini" <<D
[directive]
agreement = acme
received = $(days_ago 1)
extent = complete
nature = transfer
transfer_to = $1
requested_by = J. Smith, Data Privacy Officer
D
}
directive "$T/srv/acme/handoff"
expect_exit 2 L directive add "$T/d.ini" >"$T/out" 2>&1
grep -q "lies inside agreement acme's dataset work" "$T/out" || die "inside: $(cat "$T/out")"
mkdir -p "$T/srv/real-handoff"
ln -s "$T/srv/real-handoff" "$T/srv/handoff"
directive "$T/srv/handoff/acme"
expect_exit 2 L directive add "$T/d.ini" >"$T/out" 2>&1
grep -q 'handoff is a symbolic link' "$T/out" || die "symlink: $(cat "$T/out")"
[[ -z $(L directive list --tsv | tail -n +2) ]] || die "a refused directive was recorded"
# Accepted where it is safe; then the site is swapped for a symlink: the
# run refuses the transfer and destroys nothing.
rm "$T/srv/handoff"
directive "$T/srv/handoff/acme"
L directive add "$T/d.ini" >/dev/null || die "a safe transfer_to was refused"
before=$(snapshot "$T/srv/acme")
ln -s "$T/srv/real-handoff" "$T/srv/handoff"
expect_exit 2 L check >"$T/check" 2>&1
grep -q '^D-0001: transfer_to .*handoff is a symbolic link' "$T/check" || die "check: $(cat "$T/check")"
expect_exit 1 L run >"$T/run" 2>&1
grep -q 'symbolic link' "$T/run" || die "run: $(cat "$T/run")"
[[ $(snapshot "$T/srv/acme") == "$before" ]] || die "data destroyed"
[[ -z $(ls "$T/srv/real-handoff") ]] || die "something was written through the symlink"
L plan --tsv >"$T/plan" || true
grep -q 'blocked: transfer_to' "$T/plan" || die "plan: $(cat "$T/plan")"
echo ok
