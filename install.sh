#!/usr/bin/env bash
# install.sh: set up lethe on a Debian machine, as root.  Idempotent.
#
#   ./install.sh [--prefix DIR] [--enable-cron] [--no-demo] [--no-packages]
#
# 1. installs every Debian package the build, the tests and the benchmarks
#    need (apt-get);
# 2. builds lethe and installs it and its man pages under PREFIX
#    (default /usr/local);
# 3. installs an example /etc/lethe/ only where none exists (an existing
#    configuration is never touched);
# 4. installs /etc/cron.d/lethe running `lethe run` daily, commented out
#    unless --enable-cron is given;
# 5. runs `lethe demo` so a newcomer sees the whole flow.
set -euo pipefail
cd "$(dirname "$0")"

prefix=/usr/local enable_cron=0 demo=1 packages=1
while (($#)); do
	case $1 in
	--prefix) prefix=$2; shift 2 ;;
	--prefix=*) prefix=${1#*=}; shift ;;
	--enable-cron) enable_cron=1; shift ;;
	--no-demo) demo=0; shift ;;
	--no-packages) packages=0; shift ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "install.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

say() { printf '==> %s\n' "$*"; }

# Build: compiler, pkg-config and the four libraries of SPEC §2.
build_pkgs="gcc make pkg-config libssl-dev libarchive-dev libinih-dev check openssl"
# Tests and benchmarks: filesystems and loop devices, The Sleuth Kit for
# the forensic checks, real archive writers and readers (GNU tar, bsdtar,
# GNU cpio, Info-ZIP zip and unzip, lz4, python3),
# attr/e2fsprogs for xattrs and chattr, a real MTA for delivery tests,
# mandoc to lint the man pages, time and bc for the benchmarks, valgrind,
# gdb (kills a run at exact points), clang + libFuzzer for the fuzz targets.
test_pkgs="e2fsprogs xfsprogs btrfs-progs util-linux sleuthkit tar libarchive-tools
  gzip xz-utils zstd bzip2 lz4 cpio zip unzip python3 attr coreutils time bc mandoc file tzdata
  opensmtpd procps psmisc valgrind gdb clang libclang-rt-14-dev"

if ((packages)); then
	if [[ $(id -u) != 0 ]]; then
		echo "install.sh: run as root to install packages (or --no-packages)" >&2
		exit 2
	fi
	missing=()
	for p in $build_pkgs $test_pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if ((${#missing[@]})); then
		say "installing packages: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# opensmtpd's maintainer scripts try to start the daemon; tests start
		# their own on loopback, so keep the packaged one from starting.
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d.lethe
		chmod +x /usr/sbin/policy-rc.d.lethe
		had_rc=0; [[ -e /usr/sbin/policy-rc.d ]] && had_rc=1
		((had_rc)) || cp /usr/sbin/policy-rc.d.lethe /usr/sbin/policy-rc.d
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
		((had_rc)) || rm -f /usr/sbin/policy-rc.d
		rm -f /usr/sbin/policy-rc.d.lethe
	else
		say "packages: all present"
	fi
fi

say "building"
make -s all

if [[ $(id -u) == 0 ]]; then
	say "installing under $prefix"
	make -s install PREFIX="$prefix"
	lethe="$prefix/bin/lethe"

	if [[ ! -e /etc/lethe ]]; then
		say "installing example configuration in /etc/lethe"
		install -d -m 0755 /etc/lethe /etc/lethe/policies.d
		install -d -m 0700 /etc/lethe/certs
		install -m 0644 etc/lethe.conf /etc/lethe/lethe.conf
		for p in policies/*.ini; do install -m 0644 "$p" /etc/lethe/policies.d/; done
		certs/mkca --vendor "Example Learning, Inc." --host "$(hostname)" /etc/lethe/certs >/dev/null
		install -d -m 0700 /var/lib/lethe
	else
		say "/etc/lethe exists: left as it is"
	fi

	cron=/etc/cron.d/lethe
	if [[ ! -e $cron || $enable_cron == 1 ]]; then
		hash='#'; ((enable_cron)) && hash=''
		tmp=$(mktemp /etc/cron.d/.lethe.XXXXXX)
		cat > "$tmp" <<CRON
# lethe: daily data-retention run (installed by lethe's install.sh).
# Quiet under cron: it prints only problems; exit codes per lethe(8).
# Enable with ./install.sh --enable-cron, or remove the '#' below.
SHELL=/bin/sh
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
${hash}17 3 * * * root $lethe run
CRON
		chmod 0644 "$tmp"
		mv "$tmp" "$cron"
		say "cron: $cron ($([[ $enable_cron == 1 ]] && echo enabled || echo "installed commented out"))"
	else
		say "cron: $cron exists: left as it is"
	fi
else
	say "not root: skipping make install, /etc/lethe and cron"
	lethe=build/lethe
fi

if ((demo)); then
	say "lethe demo"
	# As root, lethe trusts only what root alone can change (StrictModes,
	# lethe.conf(5)), so the demo cannot live below the world-writable /tmp.
	if ((EUID == 0)); then demo_base=/root; else demo_base=${TMPDIR:-/tmp}; fi
	demo_dir=$(mktemp -d "$demo_base/lethe-demo.XXXXXX")
	LETHE_MKCA="$PWD/certs/mkca" "$lethe" demo "$demo_dir"
fi
