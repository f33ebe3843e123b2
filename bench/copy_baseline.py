"""Raw COPY baseline (not a test): the same rows the LRS would store for the sample
statements, prepared beforehand, COPYed into the same tables the LRS writes (lrs_statement,
partitioned by month, and the id table lrs_statement_id, through the LRS's own
services.copy_rows) in batches of --batch rows, one transaction per batch (durable commits),
by --concurrency processes, in COPY's binary format (as the LRS writes) or with --text in
its text format. Prints rows/s, the yardstick for "batch-100 ingest ≥ half the COPY rate", and
the machine's busy CPU per row while the COPYs ran (bench/machine.py). The workers prepare
their rows first and start together.

    DATABASE_URL=postgres://… .venv/bin/python bench/copy_baseline.py --rows 100000
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.machine import busy_seconds

SAMPLE = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "bench" / "sample-statements.json"
)


def _rows(count: int, platform_id: int) -> list[tuple[Any, ...]]:
    from django.utils import timezone

    from zhipei.lrs.services import statement_rows
    from zhipei.lrs.validation import prepare_statement

    templates = json.loads(SAMPLE.read_text(encoding="utf-8"))
    authority = {"objectType": "Agent", "account": {"homePage": "https://b.cn", "name": "k"}}
    rows = []
    now = timezone.now()
    for index in range(count):
        item = dict(templates[index % len(templates)])
        item["id"] = str(uuid.uuid4())
        prepared = prepare_statement(item, "", version="1.0.3", stored=now, authority=authority)
        rows.extend(statement_rows(platform_id, [prepared], {}, {}))
    return rows


def _worker(
    rows_per_worker: int, batch: int, platform_id: int, *, text: bool, ready: Any, queue: Any
) -> None:
    import django

    django.setup()
    from django.db import connection, transaction

    from zhipei.lrs.services import copy_rows

    rows = _rows(rows_per_worker, platform_id)
    connection.ensure_connection()
    ready.wait()  # every worker's rows are ready: all COPY together, and only COPY is timed
    started = time.perf_counter()
    for start in range(0, len(rows), batch):
        with transaction.atomic():
            copy_rows(rows[start : start + batch], text=text)
    queue.put((len(rows), time.perf_counter() - started))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--text", action="store_true", help="COPY in the text format")
    args = parser.parse_args()

    import django

    django.setup()
    from zhipei.orgs.models import Platform

    platform = Platform.objects.filter(organisation__name="xAPI benchmark platform").first()
    if platform is None:
        sys.exit("run bench/xapi_fixture.py first")
    platform_id = platform.pk
    from django.db import connections

    connections.close_all()
    queue: Any = multiprocessing.Queue()
    ready: Any = multiprocessing.Barrier(args.concurrency + 1)
    per_worker = args.rows // args.concurrency
    workers = [
        multiprocessing.Process(
            target=_worker,
            args=(per_worker, args.batch, platform_id),
            kwargs={"text": args.text, "ready": ready, "queue": queue},
        )
        for _ in range(args.concurrency)
    ]
    for worker in workers:
        worker.start()
    ready.wait()
    busy = busy_seconds()
    results = [queue.get() for _ in workers]
    busy = busy_seconds() - busy
    for worker in workers:
        worker.join()
    total = sum(r[0] for r in results)
    slowest = max(r[1] for r in results)
    print(
        json.dumps(
            {
                "rows": total,
                "batch": args.batch,
                "concurrency": args.concurrency,
                "format": "text" if args.text else "binary",
                "seconds": round(slowest, 2),
                "rows_per_s": round(total / slowest, 1),
                "machine_cpu_us_per_row": round(busy / total * 1e6, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
