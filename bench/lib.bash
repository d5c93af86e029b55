# bench/lib.bash: what the benchmarks that run a whole lethe share.  Source it
# after `set -euo pipefail`.
#   bench_workdir NAME   $W: a fresh scratch directory on a real disk,
#                        removed on exit unless LETHE_BENCH_KEEP is set;
#                        $top, $LETHE (build/lethe, built) and a throwaway
#                        CA in $W/certs.  As root, lethe's StrictModes
#                        refuse a config below a directory others can
#                        write (/var/tmp), so the base is then a root-owned
#                        /var/lib/lethe-bench on the same disk.
#                        LETHE_BENCH_DIR overrides the base.
#   bench_objs           the agent's objects (build/obj, without main.o),
#                        by today's sources: build/obj may hold stale ones
#                        of renamed files; for drivers linked to modules.
#   bench_owtool         $ow: build/bench/owtool (tests/forensic/owtool.c,
#                        the overwrite module driven file by file), built
#                        against bench_objs.
#   bench_conf DIR       DIR/lethe.conf: state DIR/state, policies DIR/pol,
#                        the one allowed root DIR/srv, signed with
#                        $W/certs, mail to /bin/true; makes DIR/pol, DIR/srv.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_workdir() {
	local base=${LETHE_BENCH_DIR:-${TMPDIR:-/var/tmp}}
	if [[ $(id -u) == 0 && -z ${LETHE_BENCH_DIR:-} ]]; then
		base=/var/lib/lethe-bench
		install -d -m 0755 "$base"
	fi
	W=$(mktemp -d "$base/lethe-bench-$1.XXXXXX")
	chmod 0755 "$W"
	trap '[[ -n ${LETHE_BENCH_KEEP:-} ]] || rm -rf "$W"' EXIT
	make -C "$top" -s all >/dev/null
	LETHE=$top/build/lethe
	"$top/certs/mkca" "$W/certs" >/dev/null 2>&1
}
bench_objs() {
	(cd "$top" && ls agent/*/*.c | sed 's|.*/||; s|\.c$|.o|; s|^|'"$top"'/build/obj/|')
}
bench_owtool() {
	make -C "$top" -s all >/dev/null
	mkdir -p "$top/build/bench"
	ow=$top/build/bench/owtool
	cc -std=c17 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -O2 -iquote "$top/agent" \
		-o "$ow" "$top/tests/forensic/owtool.c" $(bench_objs) \
		$(pkg-config --libs libcrypto libarchive inih) -lpthread
}
bench_conf() {
	mkdir -p "$1/pol" "$1/srv"
	cat >"$1/lethe.conf" <<CONF
[agent]
state_dir = $1/state
policy_dir = $1/pol
allowed_roots = $1/srv
host = bench
[vendor]
name = Bench
contact = bench@example.com
[signing]
key = $W/certs/agent.key
cert = $W/certs/agent.pem
chain = $W/certs/ca.pem
[notify]
sendmail = /bin/true
CONF
}
