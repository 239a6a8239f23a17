#!/usr/bin/env bash
# Shared shell helpers for the run and test scripts. Source it; do not run it.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AZURITE_JS="$ROOT/node_modules/azurite/dist/src/azurite.js"
AZURITE_ACCOUNT_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

require() {
  command -v "$1" >/dev/null 2>&1 || { log "error: '$1' is not on PATH. $2"; exit 1; }
}

# Installs the Azurite version pinned in package-lock.json when it is missing.
ensure_azurite() {
  require node "Install Node.js 20 or later."
  require npm "Install Node.js 20 or later (npm comes with it)."
  if [[ ! -f "$AZURITE_JS" ]]; then
    log "installing the pinned Azurite with npm ci"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error) >&2
  fi
}

# Prints a free TCP port on 127.0.0.1.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

port_is_free() {
  node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close(()=>process.exit(0)));' "$1"
}

# Waits until an HTTP server answers on 127.0.0.1:PORT (any status), or fails after SECONDS.
wait_for_http() {
  local port="$1" seconds="$2" pid="${3:-}" path="${4:-}"
  local deadline=$((SECONDS + seconds))
  until node -e 'require("http").get({host:"127.0.0.1",port:+process.argv[1],path:process.argv[2]||"/",timeout:2000},r=>process.exit(0)).on("error",()=>process.exit(1)).on("timeout",()=>process.exit(1));' "$port" "$path"; do
    if [[ -n "$pid" ]] && ! kill -0 "$pid" 2>/dev/null; then
      log "error: process $pid exited before port $port answered"; return 1
    fi
    if (( SECONDS >= deadline )); then
      log "error: nothing answered on 127.0.0.1:$port within ${seconds}s"; return 1
    fi
    sleep 0.2
  done
}

# Starts Azurite in the background with the house flags (architecture section 6).
# Usage: start_azurite DATA_DIR BLOB_PORT QUEUE_PORT TABLE_PORT; sets AZURITE_PID and AZURITE_CONNECTION_STRING.
start_azurite() {
  local data="$1" blob="$2" queue="$3" table="$4"
  mkdir -p "$data"
  node "$AZURITE_JS" --silent --location "$data" \
    --blobHost 127.0.0.1 --blobPort "$blob" \
    --queueHost 127.0.0.1 --queuePort "$queue" \
    --tableHost 127.0.0.1 --tablePort "$table" \
    --skipApiVersionCheck --disableTelemetry \
    >"$data/azurite.out" 2>&1 &
  AZURITE_PID=$!
  for port in "$blob" "$queue" "$table"; do
    wait_for_http "$port" 60 "$AZURITE_PID" || { cat "$data/azurite.out" >&2; stop_pid "$AZURITE_PID"; return 1; }
  done
  AZURITE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_ACCOUNT_KEY;BlobEndpoint=http://127.0.0.1:$blob/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$queue/devstoreaccount1;TableEndpoint=http://127.0.0.1:$table/devstoreaccount1;"
}

# SIGTERM, then SIGKILL after GRACE seconds (default 5): a busy Azurite can ignore SIGTERM.
stop_pid() {
  local pid="$1" grace="${2:-5}"
  [[ -z "$pid" ]] && return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "process $pid ignored SIGTERM; sending SIGKILL"
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Kills every process whose environment carries MARKER=VALUE (the test run's children, however deep).
kill_marked() {
  local marker="$1" value="$2" pid
  for env in /proc/[0-9]*/environ; do
    pid="${env#/proc/}"; pid="${pid%/environ}"
    [[ "$pid" == "$$" ]] && continue
    if { tr '\0' '\n' <"$env"; } 2>/dev/null | grep -qx "$marker=$value"; then
      kill -KILL "$pid" 2>/dev/null && log "stopped leftover process $pid ($(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null | cut -c1-80))"
    fi
  done
  return 0
}
