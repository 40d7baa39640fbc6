#!/usr/bin/env bash
# Fails when a package imports one that DESIGN.md says it must not, or a subpackage imports its
# parent (or any package above it: train/compare must not import train).
set -euo pipefail
mod=github.com/leadscore/leadscore
fail=0
check() { # package, forbidden-pattern, reason
	local pkg=$1 pat=$2 why=$3
	[ -d "${pkg#$mod/}" ] || return 0
	local bad
	bad=$(go list -deps "$pkg/..." 2>/dev/null | grep -E "$pat" || true)
	if [ -n "$bad" ]; then
		echo "deps-check: $pkg must not depend on: $why"; echo "$bad" | sed 's/^/  /'; fail=1
	fi
}
check $mod/features "^$mod/(models|store|train|serve|proto|cmd|demo)" "other leadscore packages"
check $mod/models "^$mod/(store|train|serve|proto|cmd|demo)" "store, train, serve, proto, cmd or demo"
check $mod/store "^$mod/(train|serve|proto|cmd|demo)" "train, serve, proto, cmd or demo"
check $mod/train "^$mod/(serve|proto|cmd|demo)" "serve, proto, cmd or demo"
check $mod/serve "^$mod/(train|cmd|demo)(/|$)|parquet-go|golearn" "train, demo, Parquet or golearn"
check $mod/internal "^$mod/(features|models|train|serve|proto|cmd|store)(/|$)" "the project's own packages (internal holds test harnesses)"
check $mod/proto "^$mod/(features|models|store|train|serve|cmd)" "anything hand-written"
check $mod/demo "^$mod/cmd" "cmd (demo is a library the command wires)"

# A subpackage never imports a package above it in the tree (its parent or an ancestor).
while read -r pkg imports; do
	parent=${pkg%/*}
	while [ "$parent" != "$mod" ] && [ "${parent#$mod/}" != "$parent" ]; do
		for imp in $imports; do
			if [ "$imp" = "$parent" ]; then
				echo "deps-check: $pkg imports its parent $parent"; fail=1
			fi
		done
		parent=${parent%/*}
	done
done < <(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./... | grep -v "^$mod/cmd/")
exit $fail
