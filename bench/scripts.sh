#!/usr/bin/env bash
# Script runtime benchmark: Sluice (QuickJS) against Node.js `vm` running the same login script,
# in one run. Server-side figures are pinned to core 0 when taskset is available.
#   bench/scripts.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
pin() { if command -v taskset >/dev/null; then taskset -c 0 "$@"; else "$@"; fi; }
cargo build --release -q -p sluice-scripts --example script_bench
s=$(pin target/release/examples/script_bench "$n")
if command -v node >/dev/null; then b=$(pin node bench/node/vm-baseline.js "$n"); else b='{}'; echo "node not found: no baseline" >&2; fi
python3 - "$s" "$b" <<'PY'
import json, sys
s, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
rows = [
  ("warm dispatch p50, in container (µs)", s["warm_in_container_p50_us"], b.get("node_hot_p50_us"), "≤ 15"),
  ("warm dispatch p50, via ScriptRunner port (µs)", s["warm_via_port_p50_us"], b.get("node_hot_p50_us"), "≤ 15"),
  ("cold container + first call p50 (µs)", s["cold_container_p50_us"], b.get("node_fresh_context_p50_us"), "≤ 500, ≥ 1.5× faster than Node"),
  ("RSS per warm container (KiB)", s["rss_per_warm_container_kib"], None, "≤ 250 KiB"),
]
print(f"{'scenario':48} {'sluice':>10} {'node vm':>10} {'node/sluice':>12}  goal")
for name, v, base, goal in rows:
    ratio = f"{base / v:.2f}×" if base else "-"
    print(f"{name:48} {v:10.1f} {base if base is not None else '-':>10} {ratio:>12}  {goal}")
print("node:", b.get("node_version", "not run"))
PY
