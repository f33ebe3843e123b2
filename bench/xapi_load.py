"""xAPI ingest load generator (not a test): POSTs statements shaped like
../shared/bench/sample-statements.json, each with a fresh UUID, to <base>/statements over real
HTTP with Basic auth, from N concurrent client processes for a fixed duration, and prints
statements/s and request latency percentiles.

    .venv/bin/python bench/xapi_load.py --base http://127.0.0.1:8000/xapi \
        --user KEY_ID --password SECRET --batch 100 --concurrency 4 --duration 20
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import statistics
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SAMPLE = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "sample-statements.json"
)


def _client(args: argparse.Namespace, worker: int, queue: Any) -> None:
    templates = json.loads(Path(args.sample).read_text(encoding="utf-8"))
    for template in templates:
        template.pop("id", None)
    parts = urlsplit(args.base)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    path = parts.path.rstrip("/") + "/statements"
    token = base64.b64encode(f"{args.user}:{args.password}".encode()).decode()
    headers = {
        "Authorization": "Basic " + token,
        "X-Experience-API-Version": "1.0.3",
        "Content-Type": "application/json",
    }
    latencies: list[float] = []
    sent = errors = 0
    index = worker
    deadline = time.perf_counter() + args.duration
    while time.perf_counter() < deadline:
        batch = []
        for _ in range(args.batch):
            item = dict(templates[index % len(templates)])
            item["id"] = str(uuid.uuid4())
            batch.append(item)
            index += 1
        body = json.dumps(batch if args.batch > 1 else batch[0]).encode()
        started = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            connection.close()
        latencies.append(time.perf_counter() - started)
        if ok:
            sent += args.batch
        else:
            errors += 1
    queue.put((sent, errors, latencies))


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000/xapi")
    parser.add_argument("--user", required=True, help="platform key id")
    parser.add_argument("--password", required=True, help="platform secret")
    parser.add_argument("--batch", type=int, default=100, help="statements per request")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds")
    parser.add_argument("--sample", default=str(SAMPLE))
    args = parser.parse_args()

    queue: Any = multiprocessing.Queue()
    workers = [
        multiprocessing.Process(target=_client, args=(args, n, queue))
        for n in range(args.concurrency)
    ]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    results = [queue.get() for _ in workers]
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    sent = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = [value for r in results for value in r[2]]
    print(
        json.dumps(
            {
                "batch": args.batch,
                "concurrency": args.concurrency,
                "seconds": round(elapsed, 1),
                "statements": sent,
                "requests": len(latencies),
                "errors": errors,
                "statements_per_s": round(sent / elapsed, 1),
                "p50_ms": round(_percentile(latencies, 0.50) * 1000, 1),
                "p99_ms": round(_percentile(latencies, 0.99) * 1000, 1),
                "mean_ms": round(statistics.fmean(latencies) * 1000, 1) if latencies else 0,
            }
        )
    )


if __name__ == "__main__":
    main()
