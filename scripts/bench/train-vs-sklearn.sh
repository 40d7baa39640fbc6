#!/usr/bin/env bash
# train-vs-sklearn.sh compares the whole process of `leadscore train` with a scikit-learn pipeline
# (scripts/bench/sklearn_train.py) on the same generated contacts and the same time-ordered 80/20 split,
# at equal work, both ways in the same run (issue 14), for each model and each mode:
#   models  onehot     `--model onehot` against the peer's pandas one-hot design;
#           scorecard  `--model scorecard` against the peer's binned design (numbers cut into quantile
#                      bins, one-hot encoded with the categories by a scikit-learn ColumnTransformer).
#                      The scorecard also chooses its bins by the rates and fits with every weight's
#                      sign constrained (fit.FitNonNegative): extra work on leadscore's side only.
#   modes   cv         leadscore's default (the penalty chosen by 10-point 5-fold cross-validation scored
#                      by log loss, then a fit at the best C) against LogisticRegressionCV over the same
#                      ten C values (1e-3 to 1e2), five stratified folds, scored by log loss, refitted at
#                      the best C;
#           fixed      `leadscore train --c C` against LogisticRegression(C=C).
# Each round runs both sides back to back (leadscore first in odd rounds, scikit-learn first in even
# ones, so that a drift of the machine's load does not favour one side). It prints each run's wall
# time, CPU time (user+sys), peak memory (max RSS), holdout AUC and the load average when it started,
# then per model and mode the medians over the rounds: the wall and CPU ratios leadscore/scikit-learn
# (the median of each round's ratio), the memory ratio (largest peaks), and PASS/MISS against the goals:
# median wall time ratio <= 0.33 and holdout AUC within 0.002.
#
# Features: both sides read the same CSV and encode the same information; see sklearn_train.py for
# the peers' designs (the e-mail class and title seniority are computed by leadscore's rules,
# features/derive.go, mirrored in the peer). Each side's time includes reading the CSV and encoding.
# Coefficients on one identical encoded matrix are checked against scikit-learn and scipy by
# train/fit's tests (TestSklearnGolden, TestSklearnLive, TestScipyNonNegative), not here.
# leadscore cross-validates on a stratified sample of 50,000 training rows (fit.DefaultMaxRows; it
# chose the same C as every row on these contacts); scikit-learn uses every training row, its folds on
# both cores (n_jobs=2).
#
# Environment: ROWS (default 300000), SEED (7), C (0.1, the fixed mode's C), MODELS ("onehot
# scorecard"), MODES ("cv fixed"), RUNS (rounds per model and mode; 3), PYTHON (/usr/bin/python3, which
# has Debian's pandas and scikit-learn), LIMIT (seconds per run; 1800). The generated CSV is kept under
# ${TMPDIR:-/tmp}/leadscore-bench and reused.
#
# On a shared machine wall time follows the load; the load average is printed with every run, and CPU
# time varies less. Exit status: 0 after a measurement, whether the goals are met or not; non-zero when
# a step fails.
set -euo pipefail

rows=${ROWS:-300000}
seed=${SEED:-7}
c=${C:-0.1}
runs=${RUNS:-3}
models=${MODELS:-onehot scorecard}
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
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS=$runs: want a positive count"

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

# commands MODEL MODE: sets ls_cmd and py_cmd.
commands() {
	case $1 in
	onehot | scorecard) ;;
	*) die "unknown model $1 (want onehot or scorecard)" ;;
	esac
	ls_cmd=("$bin" train --data "$data" --label deal_stage --positive closedwon --negative closedlost
		--models "$run_dir/models" --name bench --time-column created_at --model "$1" --quiet --json)
	case $2 in
	cv) py_cmd=("$python" "$peer" "$data" cv 0.2 "$1") ;;
	fixed)
		ls_cmd+=(--c "$c")
		py_cmd=("$python" "$peer" "$data" "$c" 0.2 "$1")
		;;
	*) die "unknown mode $2 (want cv or fixed)" ;;
	esac
}

load() { cut -d' ' -f1 /proc/loadavg; }

# measure SIDE NAME CMD...: runs CMD under /usr/bin/time -v and the time limit, and prints
# "wall_seconds cpu_seconds max_rss_mb auc c load" on stdout; the command's output is kept in
# $run_dir/NAME.*.
measure() {
	local side=$1 name=$2
	shift 2
	local out=$run_dir/$name.out err=$run_dir/$name.err tv=$run_dir/$name.time l
	rm -rf "$run_dir/models"
	l=$(load)
	if ! /usr/bin/time -v -o "$tv" timeout "$limit" "$@" >"$out" 2>"$err"; then
		echo "train-vs-sklearn: $name failed (time limit ${limit}s; status 124 means it ran out):" >&2
		tail -n 20 "$err" >&2
		grep -E 'Exit status|Command terminated' "$tv" >&2 || true
		return 1
	fi
	local wall cpu rss auc chosen
	read -r wall cpu rss < <(timev_read "$tv")
	if [[ $side == leadscore ]]; then
		auc=$(jq -r '.metrics.auc' "$out")
		chosen=$(jq -r '.c' "$out")
	else
		auc=$(tail -n 1 "$out" | jq -r '.auc')
		chosen=$(tail -n 1 "$out" | jq -r '.c')
	fi
	[[ -n $wall && -n $cpu && -n $rss && $auc != null && -n $auc ]] || { echo "train-vs-sklearn: cannot read the figures of $name" >&2; return 1; }
	echo "$wall $cpu $rss $auc $chosen $l"
}

# report MODEL MODE: prints the runs and the verdicts of one model and mode from $run_dir/*.res.
report() {
	local model=$1 mode=$2 key=$1-$2 ls_info py_info
	ls_info=$(jq -r '"\(.metrics.rows) holdout rows, C=\(.c), steps (s): \([.timings[] | "\(.step) \(.seconds * 100 | round / 100)"] | join(", "))"' "$run_dir/leadscore-$key-1.out")
	py_info=$(tail -n 1 "$run_dir/sklearn-$key-1.out" | jq -r '"\(.rows_train) train, \(.rows_holdout) holdout rows, \(.features) features, C=\(.c), prepare \(.prepare_s * 100 | round / 100) s, fit \(.fit_s * 100 | round / 100) s, at most \(.iterations) lbfgs iterations"')
	commands "$model" "$mode"
	echo
	echo "== $model, $mode: $rows generated contacts ($closed closed), seed $seed, time-ordered 80/20 split"
	echo "leadscore: ${ls_cmd[*]}"
	echo "           (round 1: $ls_info)"
	echo "sklearn:   ${py_cmd[*]}"
	echo "           (round 1: $py_info)"
	{
		printf 'round\ttool\twall s\tCPU s\tmax RSS MB\tholdout AUC\tC\tload\n'
		for ((i = 1; i <= runs; i++)); do
			for side in leadscore sklearn; do
				read -r w u m a k l <"$run_dir/$side-$key-$i.res"
				printf '%d\t%s\t%s\t%s\t%s\t%.4f\t%.4g\t%s\n' "$i" "$side" "$w" "$u" "$m" "$a" "$k" "$l"
			done
		done
	} | column -t -s $'\t'
	cat "$run_dir"/leadscore-"$key"-*.res | awk -v mode="$model $mode" -v py="$(cat "$run_dir"/sklearn-"$key"-*.res | tr '\n' ';')" '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	function verdict(ok) { return ok ? "PASS" : "MISS" }
	{ n++; lw[n] = $1; lc[n] = $2; lm = ($3 > lm ? $3 : lm); la = $4; ll[n] = $6 }
	END {
		split(py, rs, ";")
		for (i = 1; i <= n; i++) {
			split(rs[i], f, " ")
			pw[i] = f[1]; pc[i] = f[2]; pm = (f[3] > pm ? f[3] : pm); pa = f[4]
			wr[i] = lw[i] / pw[i]; cr[i] = lc[i] / pc[i]
		}
		w = median(wr, n); c = median(cr, n); d = la - pa; ad = d < 0 ? -d : d
		printf "%-16s wall   leadscore/sklearn %6.2f   (median of %d rounds; medians %.2f s vs %.2f s; goal <= 0.33) %s\n", mode, w, n, median(lw, n), median(pw, n), verdict(w <= 0.33)
		printf "%-16s CPU    leadscore/sklearn %6.2f   (median of %d rounds; medians %.2f s vs %.2f s)\n", mode, c, n, median(lc, n), median(pc, n)
		printf "%-16s memory leadscore/sklearn %6.2f   (largest max RSS, %d vs %d MB)\n", mode, lm / pm, lm, pm
		printf "%-16s AUC    leadscore - sklearn %+7.4f  (%.4f vs %.4f; goal |d| <= 0.002) %s\n", mode, d, la, pa, verdict(ad <= 0.002)
	}'
}

results=()
for model in $models; do
	for mode in $modes; do
		commands "$model" "$mode"
		key=$model-$mode
		for ((r = 1; r <= runs; r++)); do
			order=(leadscore sklearn)
			((r % 2)) || order=(sklearn leadscore)
			for side in "${order[@]}"; do
				echo "$model $mode round $r/$runs: $side (load $(load))"
				if [[ $side == leadscore ]]; then
					measure leadscore "leadscore-$key-$r" "${ls_cmd[@]}" >"$run_dir/leadscore-$key-$r.res" || die "leadscore train did not complete"
				else
					measure sklearn "sklearn-$key-$r" "${py_cmd[@]}" >"$run_dir/sklearn-$key-$r.res" || die "the scikit-learn peer did not complete"
				fi
			done
		done
		closed=$(jq -r '(.counts.won // .counts.Won) + (.counts.lost // .counts.Lost)' "$run_dir/leadscore-$key-1.out")
		results+=("$(report "$model" "$mode")")
	done
done

echo
echo "reproduce: ROWS=$rows SEED=$seed C=$c MODELS=\"$models\" MODES=\"$modes\" RUNS=$runs scripts/bench/train-vs-sklearn.sh"
echo "finished at $(uptime)"
for res in "${results[@]}"; do
	echo "$res"
done
