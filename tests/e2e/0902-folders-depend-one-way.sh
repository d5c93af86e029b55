#!/usr/bin/env bash
# agent/'s folders depend one way (CONTRIBUTING.md, "Which way folders
# depend"): a file may include only from its own folder or an earlier one in
#   base < state < locate < conf < sanitize < keys < plan < certify
#   < deliver < dispose < run < cmd < main.c
# and no two modules include each other (module: the files of one stem,
# x.c and x.h; a folder's internal header, *_int.h, is shared by the files
# it serves and is no module of its own).  Every #include "..." in agent/
# is read; each violation is named with its file and line.  Violations in
# the ALLOWED list below are reported but pass, each with why; an entry
# that no longer occurs is reported as gone, so the list can be emptied.
. "$(dirname "$0")/lib.sh"
cd "$LETHE_TOP"

# FROM -> TO (a file and the header it includes), or MODULE <-> MODULE;
# a tab, then why it is allowed for now.  Remove an entry with its fix.
ALLOWED=$(cat <<'EOF'
EOF
)

rank_of() {	# FOLDER -> its place in the order
	case $1 in
	base) echo 1 ;; state) echo 2 ;; locate) echo 3 ;; conf) echo 4 ;;
	sanitize) echo 5 ;; keys) echo 6 ;; plan) echo 7 ;; certify) echo 8 ;;
	deliver) echo 9 ;; dispose) echo 10 ;; run) echo 11 ;; cmd) echo 12 ;;
	main) echo 13 ;; *) echo 0 ;;
	esac
}
folder_of_file() {	# agent/x/y.c -> x; agent/main.c -> main
	local p=${1#agent/}
	if [[ $p == main.c ]]; then echo main
	elif [[ $p == */* ]]; then echo "${p%%/*}"
	else echo top
	fi
}
folder_of_header() {	# "x/y.h" -> x; "y.h" -> top
	if [[ $1 == */* ]]; then echo "${1%%/*}"; else echo top; fi
}

files=$(find agent -name '*.[ch]' | sort)
[[ -n $files ]] || die "no sources under agent/"
# Every include: FILE LINE HEADER.
incs=$(for f in $files; do
	grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
		sed -E "s|^([0-9]+):.*\"([^\"]+)\".*|$f \\1 \\2|" || true
done)
[[ -n $incs ]] || die "no #include lines found: the parse is broken"

found=() bad=0
allowed() {	# KEY: the reason, or fails
	local line
	while IFS= read -r line; do
		[[ -n $line && ${line%%$'\t'*} == "$1" ]] && { echo "${line#*$'\t'}"; return 0; }
	done <<<"$ALLOWED"
	return 1
}
report() {	# KEY WHERE WHAT
	local why
	found+=("$1")
	if why=$(allowed "$1"); then
		echo "allowed: $2: $3 ($why)"
	else
		echo "FAIL: $2: $3"
		bad=$((bad + 1))
	fi
}

# 1. Layers: nothing from a later folder.
n=0
while read -r f line h; do
	n=$((n + 1))
	from=$(folder_of_file "$f") to=$(folder_of_header "$h")
	rf=$(rank_of "$from") rt=$(rank_of "$to")
	if [[ $to != top && $rt == 0 ]]; then
		report "$f -> $h" "$f:$line" "includes \"$h\" from unknown folder $to/ (add it to the order)"
	elif [[ $rf == 0 ]]; then
		report "$f -> $h" "$f:$line" "$f is in unknown folder $from/ (add it to the order)"
	elif ((rt > rf)); then
		report "$f -> $h" "$f:$line" "$from/ includes \"$h\" from $to/, which comes later in the order"
	fi
done <<<"$incs"
((n > 100)) || die "only $n includes read: the parse is broken"

# 2. Two modules that include each other.
stem() { local s=${1%.[ch]}; echo "$s"; }
edges=$(while read -r f line h; do
	a=$(stem "$f") b=agent/${h%.h}
	[[ $a == "$b" || $a == *_int || $b == *_int ]] && continue
	echo "$a $b $f:$line"
done <<<"$incs" | sort -u -k1,2)
while read -r a b where; do
	[[ -n $a && $a < $b ]] || continue
	back=$(awk -v a="$a" -v b="$b" '$1 == b && $2 == a { print $3; exit }' <<<"$edges")
	[[ -n $back ]] || continue
	report "$a <-> $b" "$where and $back" "${a#agent/} and ${b#agent/} include each other"
done <<<"$edges"

# Allowed entries that no longer occur: fixed, and to be removed.
while IFS= read -r line; do
	[[ -n $line ]] || continue
	key=${line%%$'\t'*} seen=0
	for k in "${found[@]}"; do [[ $k == "$key" ]] && seen=1; done
	((seen)) || echo "gone (remove it from ALLOWED): $key"
done <<<"$ALLOWED"

((bad == 0)) || die "$bad include(s) against the folder order or in a circle"
echo ok
