#!/usr/bin/env bash
# Starts the web server, a background-task worker and the scheduler together; Ctrl-C stops all.
set -euo pipefail
PY=.venv/bin/python
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
$PY manage.py db_worker --queue-name default --no-reload &
pids+=($!)
$PY manage.py run_scheduler &
pids+=($!)
$PY manage.py demo_accounts
echo "Zhipei is serving on http://127.0.0.1:8000  (Ctrl-C stops the server, worker and scheduler)"
$PY manage.py runserver --noreload 127.0.0.1:8000 &
pids+=($!)
wait -n
