# timev.sh: read the report of GNU time's -v option. Sourced by the training benchmarks.
#
# timev_read FILE prints "WALL CPU RSS": elapsed seconds, user plus system seconds and the maximum
# resident set size in MB.
timev_read() {
	local wall cpu rss
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {
		n = split($2, p, ":"); s = 0
		for (i = 1; i <= n; i++) s = s * 60 + p[i]
		printf "%.2f", s }' "$1")
	cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.2f", s }' "$1")
	rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1")
	echo "$wall $cpu $rss"
}
