#!/usr/bin/env bash
# The provisioning bench of two builds interleaved in one window: the retired home-made engine (the commit before the
# port to DTFx) and the current tree, ROUNDS rounds each, alternating, so both see the same machine load.
#   bench/compare-provisioning.sh [devices] [callbackDelayMaxMs]      (ROUNDS=3, BASELINE=<commit> to change)
# Prints one line per run and the medians [min..max] per build. Run by hand on a quiet machine, never by make test.
set -euo pipefail
cd "$(dirname "$0")/.."
DEVICES="${1:-10000}"
DELAY="${2:-2000}"
ROUNDS="${ROUNDS:-3}"
BASELINE="${BASELINE:-7fa1079}"   # last commit on the retired runtime

work="$(mktemp -d)"
baseline_tree="$work/baseline"
cleanup() { git worktree remove --force "$baseline_tree" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

git worktree add --detach "$baseline_tree" "$BASELINE" >/dev/null
echo "building the baseline ($BASELINE) and the current tree (Release)"
dotnet build -c Release -nologo -v:quiet -clp:NoSummary "$baseline_tree/bench/Orchestrations.ProvisioningBench" >/dev/null
dotnet build -c Release -nologo -v:quiet -clp:NoSummary bench/Orchestrations.ProvisioningBench >/dev/null

run() { # $1 = label, $2 = repository root
  local out
  out="$(cd "$2" && dotnet run -c Release --no-build --project bench/Orchestrations.ProvisioningBench -- "$DEVICES" "$DELAY")"
  awk -v label="$1" '
    /^wall time/                      { wall = $3 }
    /^completion after last callback/ { after = $5 }
    /^storage requests/               { per = $5 }
    /^peak working set/               { peak = $6 }
    /^job status/                     { status = $3 }
    END { printf "%s wall_s=%s after_last_callback_s=%s storage_per_device=%s peak_mib=%s status=%s\n", label, wall, after, per, peak, status }
  ' <<<"$out" | tee -a "$work/results"
}

for round in $(seq 1 "$ROUNDS"); do
  echo "round $round/$ROUNDS"
  run retired "$baseline_tree"
  run dtfx "$PWD"
done

echo
echo "medians [min..max] over $ROUNDS rounds, $DEVICES devices, callbacks 0-$DELAY ms"
for label in retired dtfx; do
  for key in wall_s after_last_callback_s storage_per_device peak_mib; do
    grep "^$label " "$work/results" | tr ' ' '\n' | sed -n "s/^$key=//p" | sort -g |
      awk -v label="$label" -v key="$key" '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%-8s %-24s %s [%s..%s]\n", label, key, m, v[1], v[NR] }'
  done
done
