#!/usr/bin/env bash
# `make run`: Azurite (pinned npm package, data kept in .azurite/), the ThingSpace simulator and the host,
# all on 127.0.0.1. Each process's lines are prefixed ([simulator], [host]; Azurite is --silent, its output is in
# .azurite/azurite.out). If the host exits (a crash, a kill -9), Azurite and the simulator keep running and the
# host is restarted with a short back-off (HOST_RESTARTS times in a row at most). The simulator keeps its state in
# .run/simulator/, so a job waiting for callbacks finishes after the restart. Ctrl-C stops all three; nothing is
# left running.
#
# Environment: HOST_PORT (7071), SIMULATOR_PORT (5080), CONFIGURATION (Debug), SKIP_BUILD=1 (use the existing build),
# RUN_DIR (.run: pid files and simulator data), AZURITE_DIR (.azurite), HOST_RESTARTS (5), NO_HOST=1 (Azurite and the
# simulator only, for the Function App under `func start`; `make run-services`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

require dotnet "Install the .NET 10 SDK."
if (( BASH_VERSINFO[0] < 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] < 1) )); then
  log "error: this script needs bash 5.1 or later (it has $BASH_VERSION; on macOS: brew install bash)"; exit 1
fi
ensure_azurite
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [[ ! -f local.settings.json ]]; then
  cp local.settings.sample.json local.settings.json
  log "created local.settings.json from local.settings.sample.json (git-ignored; edit it for your settings)"
fi

HOST_PORT="${HOST_PORT:-7071}"
SIMULATOR_PORT="${SIMULATOR_PORT:-5080}"
CONFIGURATION="${CONFIGURATION:-Debug}"
RUN_DIR="${RUN_DIR:-$ROOT/.run}"
AZURITE_DIR="${AZURITE_DIR:-$ROOT/.azurite}"
HOST_RESTARTS="${HOST_RESTARTS:-5}"
for port in "$HOST_PORT" "$SIMULATOR_PORT"; do
  port_is_free "$port" || { log "error: port $port on 127.0.0.1 is in use (set HOST_PORT / SIMULATOR_PORT to choose others)"; exit 1; }
done

# The standard Azurite ports when free (so tools such as Storage Explorer find it), otherwise free ones.
ports=()
for port in 10000 10001 10002; do
  if port_is_free "$port"; then ports+=("$port"); else ports+=("$(free_port)"); fi
done

AZURITE_PID="" SIMULATOR_PID="" HOST_PID=""
stop_all() {
  local status=$?
  trap - INT TERM EXIT
  log "stopping"
  stop_pid "$HOST_PID" 10
  stop_pid "$SIMULATOR_PID" 10
  stop_pid "$AZURITE_PID" 10
  rm -f "$RUN_DIR"/*.pid
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# Runs a built app (`dotnet <dll>`, so the PID is the app's own) with its output lines prefixed by [NAME].
# Usage: start_app NAME PROJECT ARGS...; sets STARTED_PID.
start_app() {
  local name="$1" project="$2"; shift 2
  local dll="src/$project/bin/$CONFIGURATION/net10.0/$project.dll"
  [[ -f "$dll" ]] || { log "error: $dll is missing (build with CONFIGURATION=$CONFIGURATION, or unset SKIP_BUILD)"; exit 1; }
  dotnet "$dll" "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  STARTED_PID=$!
  echo "$STARTED_PID" >"$RUN_DIR/$name.pid"
}

start_host() {
  # local.settings.json holds the settings; the environment points the host at the ports chosen above.
  ASPNETCORE_ENVIRONMENT=Development AzureWebJobsStorage="$AZURITE_CONNECTION_STRING" \
    ThingSpace__BaseUrl="http://127.0.0.1:$SIMULATOR_PORT/api" \
    ThingSpace__OAuthUrl="http://127.0.0.1:$SIMULATOR_PORT/api/ts/v1/oauth2/token" \
    Callbacks__PublicUrl="http://127.0.0.1:$HOST_PORT/api/callbacks/thingspace" \
    start_app host Orchestrations.Host --urls "http://127.0.0.1:$HOST_PORT"
  HOST_PID=$STARTED_PID
  HOST_STARTED_AT=$SECONDS
}

# "status 137 (killed by SIGKILL)" for a wait status.
describe_status() {
  local status="$1"
  if (( status > 128 )); then
    printf 'status %d (killed by SIG%s)' "$status" "$(kill -l $((status - 128)) 2>/dev/null || echo "?")"
  else
    printf 'status %d' "$status"
  fi
}

mkdir -p "$RUN_DIR"
if [[ "${SKIP_BUILD:-}" != 1 ]]; then
  log "building ($CONFIGURATION)"
  dotnet build Orchestrations.sln -c "$CONFIGURATION" -nologo -v:quiet -clp:NoSummary
fi

start_azurite "$AZURITE_DIR" "${ports[0]}" "${ports[1]}" "${ports[2]}"
echo "$AZURITE_PID" >"$RUN_DIR/azurite.pid"
log "Azurite: blob ${ports[0]}, queue ${ports[1]}, table ${ports[2]} (data and output in $AZURITE_DIR)"

# The simulator keeps its devices, listeners and pending callbacks in RUN_DIR/simulator across restarts;
# POST /_simulator/reset (or deleting that folder while it is stopped) starts from the seed again.
Simulator__DataDirectory="${Simulator__DataDirectory:-$RUN_DIR/simulator}" \
  start_app simulator Orchestrations.Simulator --urls "http://127.0.0.1:$SIMULATOR_PORT"
SIMULATOR_PID=$STARTED_PID
wait_for_http "$SIMULATOR_PORT" 60 "$SIMULATOR_PID" /_simulator/health
log "ThingSpace simulator: http://127.0.0.1:$SIMULATOR_PORT (state in $RUN_DIR/simulator)"

if [[ "${NO_HOST:-}" == 1 ]]; then
  log "no host (NO_HOST=1). For the Function App, local.settings.json's AzureWebJobsStorage=UseDevelopmentStorage=true works when"
  log "  Azurite got ports 10000-10002 (above); then: dotnet build src/Orchestrations.Functions && cd src/Orchestrations.Functions/bin/Debug/net10.0 && func start"
  log "  (stop it before make run: both use port 7071). Ctrl-C stops Azurite and the simulator."
  exited="" status=0
  wait -n -p exited "$AZURITE_PID" "$SIMULATOR_PID" || status=$?
  [[ "$exited" == "$SIMULATOR_PID" ]] && name=simulator || name=Azurite
  log "$name (pid $exited) exited with $(describe_status "$status"); stopping"
  exit 1
fi

start_host
wait_for_http "$HOST_PORT" 60 "$HOST_PID" /api/health || true
log "host: http://127.0.0.1:$HOST_PORT (try: curl http://127.0.0.1:$HOST_PORT/api/health). Ctrl-C stops everything."

# Azurite or the simulator exiting stops everything; the host exiting restarts the host.
restarts=0
while true; do
  exited="" status=0
  if ! kill -0 "$HOST_PID" 2>/dev/null; then
    # Already gone (e.g. it failed while starting): wait -n would not see it again.
    exited="$HOST_PID"
    wait "$HOST_PID" 2>/dev/null || status=$?
  else
    wait -n -p exited "$AZURITE_PID" "$SIMULATOR_PID" "$HOST_PID" || status=$?
  fi
  case "$exited" in
    "$HOST_PID")
      log "host (pid $HOST_PID) exited with $(describe_status "$status"); Azurite and the simulator keep running"
      (( SECONDS - HOST_STARTED_AT >= 60 )) && restarts=0
      if (( restarts >= HOST_RESTARTS )); then
        log "error: the host exited $restarts times in a row without staying up for a minute; stopping (see the [host] lines above; fix the cause, then run make run again)"
        exit 1
      fi
      delay=$((1 << restarts)); restarts=$((restarts + 1))
      log "restarting the host in ${delay}s (restart $restarts of at most $HOST_RESTARTS in a row)"
      sleep "$delay"
      start_host
      if wait_for_http "$HOST_PORT" 60 "$HOST_PID" /api/health; then
        log "host is back: http://127.0.0.1:$HOST_PORT (pid $HOST_PID)"
      fi
      ;;
    "$SIMULATOR_PID") log "simulator (pid $SIMULATOR_PID) exited with $(describe_status "$status"); stopping the others"; exit 1 ;;
    "$AZURITE_PID") log "Azurite (pid $AZURITE_PID) exited with $(describe_status "$status"); stopping the others (its output: $AZURITE_DIR/azurite.out)"; exit 1 ;;
    *) log "wait returned status $status without a process; stopping"; exit 1 ;;
  esac
done
