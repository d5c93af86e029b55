#!/usr/bin/env bash
# The man pages: every man/*.[58] passes `mandoc -Tlint -W warning` with no
# warning and no error, has an EXAMPLES section, and every lethe page it
# cross-references (.Xr lethe... N) exists in man/.  The pages SPEC §2 and
# §7 name must all be there.
. "$(dirname "$0")/lib.sh"

command -v mandoc >/dev/null 2>&1 || skip "mandoc not installed"

man=$LETHE_TOP/man
for want in lethe.8 lethe.conf.5 lethe-policy.5 lethe-directive.5 \
    lethe-certificate.5 lethe-seal.5; do
	[[ -f $man/$want ]] || die "man/$want is missing"
done

shopt -s nullglob
pages=("$man"/*.[58])
((${#pages[@]})) || die "no man pages in $man"

bad=0
for p in "${pages[@]}"; do
	name=${p#"$LETHE_TOP"/}
	rc=0
	out=$(mandoc -Tlint -W warning "$p" 2>&1) || rc=$?
	if ((rc != 0)) || [[ -n $out ]]; then
		echo "$name: mandoc -Tlint -W warning (exit $rc):"
		printf '%s\n' "$out" | sed 's/^/    /'
		bad=$((bad + 1))
	fi
	# mdoc (.Sh) or man (.SH), quoted or not.
	if ! grep -Eq '^\.S[Hh][[:blank:]]+"?EXAMPLES"?[[:blank:]]*$' "$p"; then
		echo "$name: no EXAMPLES section"
		bad=$((bad + 1))
	fi
	# .Xr lethe-policy 5 must name a page that exists here.
	while read -r xr sec; do
		[[ -f $man/$xr.$sec ]] && continue
		echo "$name: .Xr $xr $sec, but there is no man/$xr.$sec"
		bad=$((bad + 1))
	done < <(sed -n 's/^\.Xr[[:blank:]]\{1,\}\(lethe[^[:blank:]]*\)[[:blank:]]\{1,\}\([0-9]\).*/\1 \2/p' "$p" | sort -u)
done

((bad == 0)) || die "$bad problem(s) in the man pages"
echo "ok: ${#pages[@]} man pages lint clean, each with EXAMPLES"
