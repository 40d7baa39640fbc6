#!/usr/bin/env bash
# train-vs-sklearn.sh compares the whole process of `leadscore train` with a scikit-learn pipeline
# (scripts/bench/sklearn_train.py) on the same generated contacts and the same time-ordered 80/20 split,
# at equal work, both ways in the same run (issue 14):
#   cv     leadscore's default (the penalty chosen by 10-point 5-fold cross-validation scored by log
#          loss, then a fit at the best C) against LogisticRegressionCV over the same ten C values
#          (1e-3 to 1e2), five stratified folds, scored by log loss, refitted at the best C;
#   fixed  `leadscore train --c C` against LogisticRegression(C=C).
# It prints wall time, CPU time (user+sys), peak memory (max RSS) and holdout AUC of both sides, the
# ratios leadscore/scikit-learn and PASS/MISS against the goals: wall time ratio <= 0.33 and holdout
# AUC within 0.002, for each mode.
#
# Features: both sides read the same CSV and encode the same information. leadscore's encoder one-hots
# categories (rare values pooled), adds missing indicators, log1p-scales and standardises counts, and
# adds the range indicators of its conversion-rate tables; the peer does what a data scientist would
# with pandas: one-hot categories, log1p counts, recency in days, median imputation with missing
# indicators and standardisation on the training rows, with the e-mail class and title seniority
# computed by leadscore's rules (features/derive.go, mirrored in the peer). Each side's time includes
# reading the CSV and encoding. Coefficients on one identical encoded matrix are checked against
# scikit-learn by train/fit's tests (TestSklearnGolden, TestSklearnLive), not here.
# leadscore cross-validates on a stratified sample of 50,000 training rows (fit.DefaultMaxRows; it
# chose the same C as every row on these contacts); scikit-learn uses every training row, its folds on
# both cores (n_jobs=2).
#
# Environment: ROWS (default 300000), SEED (7), C (0.1, the fixed mode's C), MODES ("cv fixed"),
# RUNS (runs of each side per mode, alternating; 1), PYTHON (/usr/bin/python3, which has Debian's pandas
# and scikit-learn), LIMIT (seconds per run; 1800). The generated CSV is kept under
# ${TMPDIR:-/tmp}/leadscore-bench and reused.
#
# With RUNS > 1 the ratios use each side's fastest run and largest peak memory. On a shared machine CPU
# time varies less than wall time; the load average is printed with the results. Exit status: 0 after
# a measurement, whether the goals are met or not; non-zero when a step fails.
set -euo pipefail

rows=${ROWS:-300000}
seed=${SEED:-7}
c=${C:-0.1}
runs=${RUNS:-1}
modes=${MODES:-cv fixed}
python=${PYTHON:-/usr/bin/python3}
limit=${LIMIT:-1800}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/scripts/bench/timev.sh"
work=${TMPDIR:-/tmp}/leadscore-bench
data=$work/contacts-$rows-seed$seed.csv
bin=$root/bin/leadscore
peer=$root/scripts/bench/sklearn_train.py

die() { echo "train-vs-sklearn: $*" >&2; exit 1; }

[[ -x /usr/bin/time ]] || die "/usr/bin/time is required (apt-get install time)"
"$python" -c 'import pandas, sklearn' 2>/dev/null || die "$python cannot import pandas and sklearn (apt-get install python3-sklearn python3-pandas)"

mkdir -p "$work"
run_dir=$(mktemp -d "$work/run.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT

echo "building $bin"
(cd "$root" && go build -o bin/leadscore ./cmd/leadscore) || die "go build failed"

if [[ ! -s $data ]]; then
	echo "generating $rows contacts (seed $seed) into $data"
	tmp=$work/.contacts-$rows-seed$seed.$$.csv
	"$bin" generate --rows "$rows" --seed "$seed" --out "$tmp" >/dev/null || { rm -f "$tmp"; die "leadscore generate failed"; }
	mv "$tmp" "$data"
else
	echo "reusing $data"
fi

# commands MODE: sets ls_cmd and py_cmd for the mode.
commands() {
	ls_cmd=("$bin" train --data "$data" --label deal_stage --positive closedwon --negative closedlost
		--models "$run_dir/models" --name bench --time-column created_at --quiet --json)
	case $1 in
	cv) py_cmd=("$python" "$peer" "$data" cv) ;;
	fixed)
		ls_cmd+=(--c "$c")
		py_cmd=("$python" "$peer" "$data" "$c")
		;;
	*) die "unknown mode $1 (want cv or fixed)" ;;
	esac
}

# measure NAME RUN CMD...: runs CMD under /usr/bin/time -v and the time limit, and prints
# "wall_seconds cpu_seconds max_rss_mb auc c" on stdout; the command's output is kept in $run_dir/NAME-RUN.*.
measure() {
	local name=$1 run=$2
	shift 2
	local out=$run_dir/$name-$run.out err=$run_dir/$name-$run.err tv=$run_dir/$name-$run.time
	rm -rf "$run_dir/models"
	if ! /usr/bin/time -v -o "$tv" timeout "$limit" "$@" >"$out" 2>"$err"; then
		echo "train-vs-sklearn: $name run $run failed (time limit ${limit}s; status 124 means it ran out):" >&2
		tail -n 20 "$err" >&2
		grep -E 'Exit status|Command terminated' "$tv" >&2 || true
		return 1
	fi
	local wall cpu rss auc chosen
	read -r wall cpu rss < <(timev_read "$tv")
	if [[ $name == leadscore* ]]; then
		auc=$(jq -r '.metrics.auc' "$out")
		chosen=$(jq -r '.c' "$out")
	else
		auc=$(tail -n 1 "$out" | jq -r '.auc')
		chosen=$(tail -n 1 "$out" | jq -r '.c')
	fi
	[[ -n $wall && -n $cpu && -n $rss && $auc != null && -n $auc ]] || { echo "train-vs-sklearn: cannot read the figures of $name run $run" >&2; return 1; }
	echo "$wall $cpu $rss $auc $chosen"
}

# report MODE: prints the table and the verdicts of one mode from the ls_* and py_* arrays.
report() {
	local mode=$1 ls_info py_info
	ls_info=$(jq -r '"\(.metrics.rows) holdout rows, C=\(.c)"' "$run_dir/leadscore-$mode-1.out")
	py_info=$(tail -n 1 "$run_dir/sklearn-$mode-1.out" | jq -r '"\(.rows_train) train, \(.rows_holdout) holdout rows, \(.features) features, C=\(.c), prepare \(.prepare_s * 100 | round / 100) s, fit \(.fit_s * 100 | round / 100) s, at most \(.iterations) lbfgs iterations"')
	commands "$mode"
	echo
	echo "== $mode: $rows generated contacts ($closed closed), seed $seed, time-ordered 80/20 split"
	echo "leadscore: ${ls_cmd[*]}"
	echo "           ($ls_info)"
	echo "sklearn:   ${py_cmd[*]}"
	echo "           ($py_info)"
	{
		printf 'run\ttool\twall s\tCPU s\tmax RSS MB\tholdout AUC\tC\n'
		for ((i = 0; i < runs; i++)); do
			printf '%d\tleadscore\t%s\t%s\t%s\t%.4f\t%.4g\n' $((i + 1)) "${ls_wall[i]}" "${ls_cpu[i]}" "${ls_rss[i]}" "${ls_auc[i]}" "${ls_c[i]}"
			printf '%d\tscikit-learn\t%s\t%s\t%s\t%.4f\t%.4g\n' $((i + 1)) "${py_wall[i]}" "${py_cpu[i]}" "${py_rss[i]}" "${py_auc[i]}" "${py_c[i]}"
		done
	} | column -t -s $'\t'
	awk -v lw="${ls_wall[*]}" -v lc="${ls_cpu[*]}" -v pc="${py_cpu[*]}" -v lm="${ls_rss[*]}" -v la="${ls_auc[0]}" \
		-v pw="${py_wall[*]}" -v pm="${py_rss[*]}" -v pa="${py_auc[0]}" -v mode="$mode" '
	function best(s, fn,   a, n, i, v) {
		n = split(s, a, " "); v = a[1]
		for (i = 2; i <= n; i++) if ((fn == "min" && a[i] < v) || (fn == "max" && a[i] > v)) v = a[i]
		return v
	}
	function verdict(ok) { return ok ? "PASS" : "MISS" }
	BEGIN {
		wr = best(lw, "min") / best(pw, "min"); cr = best(lc, "min") / best(pc, "min")
		mem = best(lm, "max") / best(pm, "max"); d = la - pa; ad = d < 0 ? -d : d
		printf "%-5s wall   leadscore/sklearn  %6.2f   (goal <= 0.33)       %s\n", mode, wr, verdict(wr <= 0.33)
		printf "%-5s CPU    leadscore/sklearn  %6.2f   (user+sys, fastest runs)\n", mode, cr
		printf "%-5s memory leadscore/sklearn  %6.2f   (max RSS)\n", mode, mem
		printf "%-5s AUC    leadscore - sklearn %+7.4f  (goal |d| <= 0.002) %s\n", mode, d, verdict(ad <= 0.002)
	}'
}

for mode in $modes; do
	commands "$mode"
	declare -a ls_wall=() ls_cpu=() ls_rss=() ls_auc=() ls_c=() py_wall=() py_cpu=() py_rss=() py_auc=() py_c=()
	for ((r = 1; r <= runs; r++)); do
		echo "$mode run $r/$runs: leadscore train ($(uptime | sed 's/.*load/load/'))"
		read -r w u m a k < <(measure "leadscore-$mode" "$r" "${ls_cmd[@]}") && [[ -n ${a:-} ]] || die "leadscore train did not complete"
		ls_wall+=("$w") ls_cpu+=("$u") ls_rss+=("$m") ls_auc+=("$a") ls_c+=("$k")
		unset w u m a k
		echo "$mode run $r/$runs: scikit-learn ($(uptime | sed 's/.*load/load/'))"
		read -r w u m a k < <(measure "sklearn-$mode" "$r" "${py_cmd[@]}") && [[ -n ${a:-} ]] || die "the scikit-learn peer did not complete"
		py_wall+=("$w") py_cpu+=("$u") py_rss+=("$m") py_auc+=("$a") py_c+=("$k")
		unset w u m a k
	done
	closed=$(jq -r '(.counts.won // .counts.Won) + (.counts.lost // .counts.Lost)' "$run_dir/leadscore-$mode-1.out")
	eval "res_$mode=\$(report \"\$mode\")"
done

echo
echo "reproduce: ROWS=$rows SEED=$seed C=$c MODES=\"$modes\" RUNS=$runs scripts/bench/train-vs-sklearn.sh"
echo "finished at $(uptime)"
for mode in $modes; do
	eval "echo \"\$res_$mode\""
done
