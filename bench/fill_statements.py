"""Fill the statement store with N synthetic rows by raw COPY (not a test), to measure ingest
with a large table ("no more than 20 % slower after 10 million statements are stored"). Rows
go through services.copy_rows, so they land in lrs_statement (this month's partition) and
lrs_statement_id like the LRS's own.

Rows are the sample statements prepared once, each copy with a fresh statement id (in the
column and in the payload), 10,000 per transaction.

    DATABASE_URL=postgres://… .venv/bin/python bench/fill_statements.py --rows 10000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import transaction

    from bench.copy_baseline import _rows
    from zhipei.lrs.services import COPY_COLUMNS, copy_rows
    from zhipei.orgs.models import Platform

    platform = Platform.objects.filter(organisation__name="xAPI benchmark platform").first()
    if platform is None:
        sys.exit("run bench/xapi_fixture.py first")
    templates = _rows(1000, platform.pk)
    payload_index = COPY_COLUMNS.index("payload")
    started = time.perf_counter()
    done = 0
    while done < args.rows:
        count = min(args.batch, args.rows - done)
        batch = []
        for index in range(count):
            row = list(templates[index % len(templates)])
            old_id, new_id = row[0], str(uuid.uuid4())
            row[0] = new_id
            row[payload_index] = row[payload_index].replace(old_id, new_id)
            batch.append(tuple(row))
        with transaction.atomic():
            copy_rows(batch)
        done += count
        if done % 500_000 < args.batch:
            elapsed = time.perf_counter() - started
            print(json.dumps({"rows": done, "rows_per_s": round(done / elapsed)}), flush=True)
    elapsed = time.perf_counter() - started
    print(
        json.dumps(
            {"rows": done, "seconds": round(elapsed, 1), "rows_per_s": round(done / elapsed)}
        )
    )


if __name__ == "__main__":
    main()
