#!/usr/bin/env bash
# `make test`: installs what the tests need, builds with zero warnings, runs every test project, prints the
# totals as "Total: N passed, N failed, N skipped", and leaves no process behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

require dotnet "Install the .NET 10 SDK."
ensure_azurite

CONFIGURATION="${CONFIGURATION:-Release}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Every process the tests start inherits this marker, so the trap below can find strays even if a test host crashes.
export ORCHESTRATIONS_TEST_RUN="run-$$-$RANDOM"
results="$(mktemp -d)"
cleanup() {
  kill_marked ORCHESTRATIONS_TEST_RUN "$ORCHESTRATIONS_TEST_RUN"
  rm -rf "$results"
}
trap cleanup EXIT

log "building ($CONFIGURATION)"
dotnet build Orchestrations.sln -c "$CONFIGURATION" -nologo -clp:NoSummary -v:minimal

log "testing"
set +e
dotnet test Orchestrations.sln -c "$CONFIGURATION" --no-build --nologo \
  --blame-hang-timeout 10m --results-directory "$results" "$@" 2>&1 | tee "$results/console.log"
status=${PIPESTATUS[0]}
set -e

awk '
  /^(Passed|Failed)!/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { f += $(i+1) }
      if ($i == "Passed:")  { p += $(i+1) }
      if ($i == "Skipped:") { s += $(i+1) }
    }
  }
  END { printf "Total: %d passed, %d failed, %d skipped\n", p, f, s }
' "$results/console.log"
exit "$status"
