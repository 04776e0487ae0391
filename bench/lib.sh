# bench/lib.sh: what the benchmark scripts share (sourced by bench/run and bench/run-postgres).
# Expects: cold (0/1), nice_level ("" or a niceness), raw_dir (where raw outputs go).

say() { printf '\n== %s\n' "$*"; }

set_nice_prefix() {
  # With autogroup scheduling (the Linux default on desktops and many VMs) a niceness only ranks
  # processes of the same session, so each measured command gets its own session (setsid) whose
  # autogroup gets the niceness too.
  nice_prefix=()
  if [[ -n "$nice_level" ]]; then
    # shellcheck disable=SC2016
    nice_prefix=(setsid -w sh -c \
      'echo "$0" 2>/dev/null >/proc/self/autogroup || true; exec nice -n "$0" "$@"' "$nice_level")
  fi
}

# Measurement. measure STEP TOOL COMMAND... runs COMMAND under /usr/bin/time -v with stdout and
# stderr in the raw directory, and records wall, user and system seconds and peak RSS.

declare -A WALL USER SYS RSS LOAD TOOL GROWTH NOTE
steps=()

drop_caches() {
  if [[ "$cold" -eq 1 ]]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
  fi
}

measure() {
  local step="$1" tool="$2"
  shift 2
  drop_caches
  # A script may define pre_measure (bench/run-postgres: a checkpoint) to start each command
  # from the same state.
  if declare -F pre_measure >/dev/null; then pre_measure; fi
  LOAD[$step]="$(cut -d' ' -f1 /proc/loadavg)"
  printf '$ %s\n' "$*"
  local out="$raw_dir/$step"
  if ! /usr/bin/time -v -o "$out.time" "${nice_prefix[@]}" "$@" >"$out.out" 2>"$out.err"; then
    echo "bench/run: step $step failed; its output:" >&2
    tail -n 20 "$out.out" "$out.err" >&2 || true
    exit 1
  fi
  local wall
  wall="$(sed -n 's/^\s*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out.time")"
  WALL[$step]="$(awk -v t="$wall" 'BEGIN {
    n = split(t, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }')"
  USER[$step]="$(sed -n 's/^\s*User time (seconds): //p' "$out.time")"
  SYS[$step]="$(sed -n 's/^\s*System time (seconds): //p' "$out.time")"
  RSS[$step]="$(sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$out.time")"
  TOOL[$step]="$tool"
  steps+=("$step")
  printf '   %s s wall, %s s user, %s s sys, %s MiB peak RSS (load %s)\n' "${WALL[$step]}" \
    "${USER[$step]}" "${SYS[$step]}" "$(mib "${RSS[$step]}" 1024)" "${LOAD[$step]}"
}

# mib BYTES [UNIT]: BYTES*UNIT in MiB, one decimal.
mib() { awk -v b="$1" -v u="${2:-1}" 'BEGIN { printf "%.1f", b * u / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.3f", a / b }'; }
bytes_of() { du -sb -- "$@" | awk '{ s += $1 } END { printf "%.0f\n", s }'; }
# json_field FILE KEY: the first scalar value of "KEY" in a JSON document printed by a tool.
json_field() {
  grep -o "\"$2\": *\(\"[^\"]*\"\|[-0-9.eE+]*\|true\|false\|null\)" "$1" | head -n 1 |
    sed -e 's/^"[^"]*": *//' -e 's/^"\(.*\)"$/\1/'
}

# own_figures STEP: what a Lifeboat backup reports about itself (engine seconds, bytes read,
# bytes it added after compression).
own_figures() {
  local out="$raw_dir/$1.out"
  printf 'engine %.2f s, read %s MiB, added %s MiB' "$(json_field "$out" seconds)" \
    "$(mib "$(json_field "$out" bytes)")" "$(mib "$(json_field "$out" stored_bytes)")"
}

cpu_of() { awk -v u="${USER[$1]}" -v s="${SYS[$1]}" 'BEGIN { printf "%.2f", u + s }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
  if (v == "n/a") print "n/a"; else if ((op == "<=" && v <= t) || (op == "<" && v < t))
  print "met"; else print "MISSED" }'; }

# load_note: says whether other work competed for the CPU during the run.
load_note() {
  load_max="$(printf '%s\n' "${LOAD[@]}" | sort -g | tail -n 1)"
  if awk -v l="$load_max" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    if [[ -n "$nice_level" ]]; then
      echo "NOTE: the 1-minute load average reached $load_max on $(nproc) cores during the run;" \
        "the measured commands ran at nice $nice_level, ahead of the other work"
    else
      echo "WARNING: the 1-minute load average reached $load_max on $(nproc) cores during the" \
        "run; other work competed for the CPU: re-run on a quiet machine, or with --nice -10"
    fi
  fi
}
