#!/usr/bin/env bash
# `make run`: Azurite (pinned npm package, data kept in .azurite/), the ThingSpace simulator and the host,
# all on 127.0.0.1. Ctrl-C stops all three; nothing is left running.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

require dotnet "Install the .NET 10 SDK."
ensure_azurite
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [[ ! -f local.settings.json ]]; then
  cp local.settings.sample.json local.settings.json
  log "created local.settings.json from local.settings.sample.json (git-ignored; edit it for your settings)"
fi

HOST_PORT="${HOST_PORT:-7071}"
SIMULATOR_PORT="${SIMULATOR_PORT:-5080}"
for port in "$HOST_PORT" "$SIMULATOR_PORT"; do
  port_is_free "$port" || { log "error: port $port on 127.0.0.1 is in use (set HOST_PORT / SIMULATOR_PORT to choose others)"; exit 1; }
done

# The standard Azurite ports when free (so tools such as Storage Explorer find it), otherwise free ones.
ports=()
for port in 10000 10001 10002; do
  if port_is_free "$port"; then ports+=("$port"); else ports+=("$(free_port)"); fi
done

pids=()
stop_all() {
  trap - INT TERM EXIT
  log "stopping"
  for ((i=${#pids[@]}-1; i>=0; i--)); do stop_pid "${pids[$i]}" 10; done
}
trap stop_all EXIT
trap 'exit 130' INT TERM

log "building"
dotnet build Orchestrations.sln -nologo -v:quiet -clp:NoSummary

start_azurite "$ROOT/.azurite" "${ports[0]}" "${ports[1]}" "${ports[2]}"
pids+=("$AZURITE_PID")
log "Azurite: blob ${ports[0]}, queue ${ports[1]}, table ${ports[2]} (data in .azurite/)"

dotnet run --no-build --project src/Orchestrations.Simulator -- --urls "http://127.0.0.1:$SIMULATOR_PORT" &
pids+=("$!")
wait_for_http "$SIMULATOR_PORT" 60 "$!"
log "ThingSpace simulator: http://127.0.0.1:$SIMULATOR_PORT"

# local.settings.json holds the settings; the environment points the host at the ports chosen above.
ASPNETCORE_ENVIRONMENT=Development AzureWebJobsStorage="$AZURITE_CONNECTION_STRING" \
  ThingSpace__BaseUrl="http://127.0.0.1:$SIMULATOR_PORT/api" \
  ThingSpace__OAuthUrl="http://127.0.0.1:$SIMULATOR_PORT/api/ts/v1/oauth2/token" \
  Callbacks__PublicUrl="http://127.0.0.1:$HOST_PORT/api/callbacks/thingspace" \
  dotnet run --no-build --no-launch-profile --project src/Orchestrations.Host -- --urls "http://127.0.0.1:$HOST_PORT" &
pids+=("$!")
wait_for_http "$HOST_PORT" 60 "$!" /api/health
log "host: http://127.0.0.1:$HOST_PORT (try: curl http://127.0.0.1:$HOST_PORT/api/health). Ctrl-C stops everything."

# Stop everything as soon as any of the three exits.
wait -n "${pids[@]}"
log "a process exited; stopping the others"
