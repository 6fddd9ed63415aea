#!/bin/bash
# containerd-shim figures (needs root, runc, busybox-static, jq):
#   - PSS and private dirty memory per shim with N containers running
#     (from /proc/PID/smaps_rollup);
#   - time from shim start to the sync line "ok <pid>" (pid file written) vs
#     `runc create` alone on the same bundle, interleaved, median of N
#     (shim-start.py);
#   - time from SIGKILL of the container to the shim's exit (the daemon's
#     exit-FIFO HUP; includes the shim's `runc delete`), median of N.
#
# Usage: bench/shim-bench.sh [SHIM [N]]
#   SHIM defaults to $CTRD_TOP_BUILDDIR/shim/containerd-shim or ./shim/containerd-shim.
set -eu
set -m # every background job gets its own process group, as the daemon does for shims

here=$(cd "$(dirname "$0")/.." && pwd)
shim=${1:-${CTRD_TOP_BUILDDIR:-.}/shim/containerd-shim}
n=${2:-20}
[ "$(id -u)" = 0 ] || { echo "shim-bench: needs root" >&2; exit 1; }
[ -x "$shim" ] || { echo "shim-bench: $shim is not executable" >&2; exit 1; }
shim=$(cd "$(dirname "$shim")" && pwd)/$(basename "$shim")

tmp=$(mktemp -d /tmp/shim-bench-XXXXXX)
ids=()
pids=()
cleanup() {
  for id in "${ids[@]}"; do runc delete -f "$id" >/dev/null 2>&1 || true; done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

"$here/tests/make-bundle.sh" "$tmp/bundle" sleep 100000 >/dev/null
bundle=$tmp/bundle

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

declare -A cpid shimpid
for i in $(seq 1 "$n"); do
  id=shimbench-$$-$i
  d=$tmp/state/$id/init
  mkdir -p "$d" "$tmp/io"
  for s in in out err; do mkfifo "$tmp/io/$id-$s"; done
  jq -c --arg i "$tmp/io/$id-in" --arg o "$tmp/io/$id-out" --arg e "$tmp/io/$id-err" \
    '.process + {exec:false, containerdStdin:$i, containerdStdout:$o, containerdStderr:$e,
                 runtimeArgs:null, noPivotRoot:false, checkpoint:"", rootUID:0, rootGID:0}' \
    "$bundle/config.json" > "$d/process.json"
  mkfifo "$d/exit" "$d/control" "$d/sync"
  # the daemon's ends (O_RDWR stands in for O_RDONLY|O_NONBLOCK: bash cannot
  # open a FIFO non-blocking) and a client reader of stdout/stderr
  exec {ex}<>"$d/exit" {ct}<>"$d/control" {o}<>"$tmp/io/$id-out" {e}<>"$tmp/io/$id-err" {sf}<>"$d/sync"
  ids+=("$id")
  (cd "$d" && CTRD_SHIM_SYNC_FD=$sf exec "$shim" "$id" "$bundle" runc </dev/null >/dev/null 2>&1) &
  spid=$!
  read -r -u "$sf" word pid
  [ "$word" = ok ] || { echo "shim-bench: start of $id failed: $word $pid" >&2; exit 1; }
  pids+=("$spid")
  shimpid[$id]=$spid
  cpid[$id]=$pid
  runc start "$id"
done

# memory, all N running
pss_sum=0; pd_sum=0; pss_max=0; rss_sum=0
for id in "${ids[@]}"; do
  read -r pss pd rss < <(awk '/^Pss:/{p=$2} /^Private_Dirty:/{d=$2} /^Rss:/{r=$2} END{print p, d, r}' \
    "/proc/${shimpid[$id]}/smaps_rollup")
  pss_sum=$((pss_sum + pss)); pd_sum=$((pd_sum + pd)); rss_sum=$((rss_sum + rss))
  [ "$pss" -gt "$pss_max" ] && pss_max=$pss
done
echo "shims running: $n"
echo "PSS per shim: mean $((pss_sum / n)) KiB, max $pss_max KiB"
echo "Private_Dirty per shim: mean $((pd_sum / n)) KiB"
echo "RSS per shim: mean $((rss_sum / n)) KiB"

# start latency against runc create alone, interleaved (python: no bash
# subshell or PATH lookup in either measurement)
python3 "$here/bench/shim-start.py" "$shim" "$bundle" "$n"

# exit: SIGKILL the container, wait for the shim to exit (= exit FIFO HUP)
exitlat=()
for id in "${ids[@]:0:$n}"; do
  t0=$(now_ns)
  kill -9 "${cpid[$id]}"
  wait "${shimpid[$id]}" || true
  t1=$(now_ns)
  st=$(cat "$tmp/state/$id/init/exitStatus" 2>/dev/null || echo missing)
  [ "$st" = 137 ] || echo "shim-bench: $id exitStatus $st" >&2
  exitlat+=($(( (t1 - t0) / 1000 )))
done
echo "exit (SIGKILL container -> shim exited, incl. runc delete): median $(printf '%s\n' "${exitlat[@]}" | median) us"
