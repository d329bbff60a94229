#!/usr/bin/env bash
# Start-up time and idle memory of the release binary.
#   bench/startup-rss.sh [runs]      (builds target/release/sluice if missing)
# Prints, for a first start (empty data dir: schema, tenant, RSA key, bootstrap client) and a
# warm restart: median time from exec until /healthz answers, and RSS after 2 s idle.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
bin=target/release/sluice
[ -x "$bin" ] || cargo build --release -p sluice >/dev/null
port=39123
now_ms() { date +%s%3N; }
measure() { # $1 = data dir; prints "<ms> <rss_kb>"
  local t0 pid t1 rss
  t0=$(now_ms)
  "$bin" serve --listen 127.0.0.1:$port --data-dir "$1" 2>/dev/null &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; do sleep 0.005; done
  t1=$(now_ms)
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  kill -TERM $pid; wait $pid || true
  echo "$((t1 - t0)) $rss"
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
first=(); warm=(); rss_first=(); rss_warm=()
for i in $(seq "$runs"); do
  d=$(mktemp -d)
  read -r ms rss < <(measure "$d"); first+=("$ms"); rss_first+=("$rss")
  read -r ms rss < <(measure "$d"); warm+=("$ms"); rss_warm+=("$rss")
  rm -rf "$d"
done
printf '%-28s %10s %12s\n' "scenario (median of $runs)" "start ms" "idle RSS KiB"
printf '%-28s %10s %12s\n' "first start (SQLite)" "$(printf '%s\n' "${first[@]}" | median)" "$(printf '%s\n' "${rss_first[@]}" | median)"
printf '%-28s %10s %12s\n' "warm restart (SQLite)" "$(printf '%s\n' "${warm[@]}" | median)" "$(printf '%s\n' "${rss_warm[@]}" | median)"
