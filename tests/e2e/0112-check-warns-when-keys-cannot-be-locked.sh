#!/usr/bin/env bash
# Keys (the KEK, each DEK, the random overwrite pattern's key) live in
# locked memory.  Where lethe may lock none (no CAP_IPC_LOCK and
# RLIMIT_MEMLOCK 0), `lethe check` says so in one warning line and still
# exits 0; where it can, it says nothing.  The build without sanitizers
# runs that part: ASan intercepts mlock and always reports success.
. "$(dirname "$0")/lib.sh"
plain=$LETHE_TOP/build/lethe
[[ -x $plain ]] || skip "$plain not built (make all)"
command -v prlimit >/dev/null || skip "prlimit (util-linux) not installed"
nolock=(prlimit --memlock=0:0)
if [[ $(id -u) == 0 ]]; then
	command -v setpriv >/dev/null || skip "setpriv (util-linux) not installed"
	# Root locks memory through CAP_IPC_LOCK whatever the limit: drop it.
	nolock+=(setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock --)
fi
mkhost "$T/srv"
mkdir -p "$T/srv/osde"
mkpolicy osde-2024 <<P
[dataset "exports"]
path = $T/srv/osde/**
categories = Assessment
P
L check >"$T/out" 2>"$T/err" || die "check failed: $(cat "$T/err")"
[[ ! -s $T/err ]] || die "a warning where memory can be locked: $(cat "$T/err")"
qgrep -x 'lethe: 1 agreement, 1 dataset: OK' <"$T/out" || die "summary: $(cat "$T/out")"

"${nolock[@]}" "$plain" -c "$T/lethe.conf" check >"$T/out" 2>"$T/err" ||
	die "check failed without locked memory: $(cat "$T/err")"
[[ $(wc -l <"$T/err") == 1 ]] || die "not one line: $(cat "$T/err")"
qgrep -x 'lethe: warning: secure memory cannot be locked (mlock: no CAP_IPC_LOCK and RLIMIT_MEMLOCK too small), so keys could be written to swap' <"$T/err" ||
	die "no warning: $(cat "$T/err")"
qgrep -x 'lethe: 1 agreement, 1 dataset: OK (1 warning)' <"$T/out" || die "summary: $(cat "$T/out")"
echo ok
