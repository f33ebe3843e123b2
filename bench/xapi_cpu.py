"""CPU cost of xAPI ingest (not a test): runs bench/xapi_load.py and reports the CPU seconds
the web server's workers (the children of the process in its pid file: gunicorn's or
granian's) and the PostgreSQL backends of the benchmark database used for it, per
request and per statement. On a shared machine throughput follows the other load; CPU per
statement moves much less, so it is the better figure for comparing two versions of the code.

    .venv/bin/python bench/xapi_cpu.py --server-pid /tmp/granian.pid --database zhipei_bench \
        -- --base http://127.0.0.1:8931/xapi --user KEY --password SECRET --batch 100 \
        --concurrency 2 --duration 30

Linux only (/proc); psql must reach the database as in DATABASE_URL's host and user.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: str) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _processes(pid_file: str, database: str, host: str, user: str) -> list[str]:
    master = Path(pid_file).read_text().strip()
    workers = subprocess.run(
        ["pgrep", "-P", master], capture_output=True, text=True, check=False
    ).stdout.split()
    backends = subprocess.run(
        [
            "psql",
            "-h",
            host,
            "-U",
            user,
            "-d",
            database,
            "-tAc",
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    return [f"w{pid}" for pid in workers] + [f"p{pid}" for pid in backends]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--server-pid",
        "--gunicorn-pid",
        dest="server_pid",
        required=True,
        help="the web server's pid file (granian --pid-file, gunicorn --pid)",
    )
    parser.add_argument("--database", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--user", default="postgres")
    parser.add_argument("load_args", nargs=argparse.REMAINDER, help="-- then xapi_load.py args")
    args = parser.parse_args()
    load_args = [a for a in args.load_args if a != "--"]

    before = {
        key: _cpu_seconds(key[1:])
        for key in _processes(args.server_pid, args.database, args.host, args.user)
    }
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("xapi_load.py")), *load_args],
        capture_output=True,
        text=True,
        check=True,
    )
    after = _processes(args.server_pid, args.database, args.host, args.user)
    used = {"w": 0.0, "p": 0.0}
    for key in after:
        used[key[0]] += _cpu_seconds(key[1:]) - before.get(key, 0.0)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    requests, statements = result["requests"], result["statements"]
    result.update(
        {
            "load_average": Path("/proc/loadavg").read_text().split()[:3],
            "server_cpu_ms_per_request": round(used["w"] / requests * 1000, 2),
            "postgres_cpu_ms_per_request": round(used["p"] / requests * 1000, 2),
            "server_cpu_us_per_statement": round(used["w"] / statements * 1e6),
            "postgres_cpu_us_per_statement": round(used["p"] / statements * 1e6),
        }
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
