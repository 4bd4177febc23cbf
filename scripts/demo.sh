#!/usr/bin/env bash
# The living demo, as `make demo` runs it: migrate, load today's history of the demo
# city, then serve it with daphne while `simulate_halls --live` drives the halls
# through the server's API (visitors, clerks, camera counts). Ctrl-C stops both.
#
# Environment: PORT (8000), DEMO_SPEED (simulated seconds per second, 3), CAMERA_PORT
# (the simulated cameras' MJPEG streams, PORT+90; 0: none), DEMO_ACCESS_LOG (daphne's
# access log, var/demo-access.log), PY (.venv/bin/python), and whatever the settings
# read (DATABASE_URL: the embedded SQLite file by default).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
PORT=${PORT:-8000}
DEMO_SPEED=${DEMO_SPEED:-3}
CAMERA_PORT=${CAMERA_PORT:-$((PORT + 90))}
DEMO_ACCESS_LOG=${DEMO_ACCESS_LOG:-var/demo-access.log}
export PORT

mkdir -p var
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py load_demo
echo "Serving on http://127.0.0.1:${PORT}/ (Ctrl-C stops it); the simulator keeps the halls moving."
echo "Start with the manager board: log in as futian-manager / demo; a floor tablet: futian-floor / demo."

server=""
sim=""
# Ctrl-C or TERM: ask both to stop, give them 3 s, then kill what is left (a request or
# a periodic job still running must not keep the demo up).
stop() {
    trap - EXIT INT TERM
    local pids
    pids=$(jobs -p)
    [ -n "$pids" ] || return 0
    kill -TERM $pids 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12; do
        kill -0 $pids 2>/dev/null || break
        sleep 0.25
    done
    kill -KILL $pids 2>/dev/null || true
    wait 2>/dev/null || true
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

"$PY" -m daphne -b 127.0.0.1 -p "$PORT" --access-log "$DEMO_ACCESS_LOG" hall_ops.asgi:application &
server=$!
camera=()
if [ "$CAMERA_PORT" != 0 ]; then camera=(--camera-port "$CAMERA_PORT"); fi
"$PY" manage.py simulate_halls --live --url "http://127.0.0.1:${PORT}" --speed "$DEMO_SPEED" "${camera[@]}" &
sim=$!
# Whichever ends first (the server failing, the simulator failing) ends the demo.
wait -n "$server" "$sim"
