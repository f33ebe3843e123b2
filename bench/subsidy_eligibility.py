"""Eligibility evaluation throughput (issue 5: ≥ 2,000 applications/s on one worker against
1 million people and 3 million certificates, the cross-system duplicate check included).
Not a test.

Creates `--applications` draft learner-training applications for random people of the store
filled by bench/subsidy_data.py, each naming one of that person's certificates, then — timed,
in one process — evaluates them batch by batch as the workflow does: read the applications,
`Facts.load` (people, categories, holds, certificates, every live claim of those people
anywhere in the system, organisation holds, policies and catalogue answers), the kind's rules
for each, and the Evaluation rows stored with one bulk insert per batch. Prints applications/s,
queries per batch and how often each rule failed (the duplicate checks must find something).
The drafts and their evaluations are deleted afterwards (--keep leaves them).

    DATABASE_URL=postgres://…/zhipei_subbench_data .venv/bin/python bench/subsidy_eligibility.py
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MARK = "bench-eligibility"  # payee_name of the drafts this benchmark creates


class QueryCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


# Tables a run writes and deletes from: vacuumed after each run (this server runs with
# autovacuum off; dead rows of earlier runs would slow every index scan of the next).
TOUCHED = [
    "subsidies_application",
    "subsidies_applicationline",
    "subsidies_applicationstep",
    "subsidies_evaluation",
    "audit_auditevent",
]


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {', '.join(TOUCHED)}")


def tune_gc(threshold: int) -> None:
    """What a long-running worker can do at start-up: move everything alive now (Django,
    the app's modules) out of the collector's sight and collect the young generation less
    often. With the default settings the full collections that thousands of short-lived
    model instances trigger scan every object in the process again and again."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(threshold, 20, 100)


def create_drafts(count: int, seed: int) -> list[int]:
    from django.utils import timezone

    from bench.subsidy_data import CERTIFICATES_PER_PERSON
    from zhipei.people.models import Person
    from zhipei.subsidies.models import Application, ApplicationStatus, Programme

    rng = random.Random(seed)
    people = Person.objects.filter(verification_provider="bench-synthetic").count()
    if people == 0:
        sys.exit("run bench/subsidy_data.py first")
    chosen = rng.sample(range(1, people + 1), count)
    regions = dict(Person.objects.filter(pk__in=chosen).values_list("pk", "region_id"))
    now = timezone.now()
    drafts = [
        Application(
            kind=Programme.LEARNER_TRAINING,
            person_id=p,
            region_id=regions[p],
            status=ApplicationStatus.DRAFT,
            status_changed_at=now,
            inputs={
                "certificate": CERTIFICATES_PER_PERSON * (p - 1)
                + rng.randrange(CERTIFICATES_PER_PERSON)
                + 1
            },
            created_at=now,
            payee_name=MARK,
        )
        for p in chosen
    ]
    created = Application.objects.bulk_create(drafts, batch_size=2000)
    return [a.pk for a in created]


def evaluate_batch(ids: list[int], failures: Counter[str]) -> int:
    """What evaluating means here: read, load facts, run the rules, store the evaluations."""
    from django.db import transaction
    from django.utils import timezone

    from zhipei.subsidies.bulk import evaluation_of, load_applications, store_evaluations
    from zhipei.subsidies.facts import Facts
    from zhipei.subsidies.kinds import get_kind
    from zhipei.subsidies.kinds.base import FAIL

    with transaction.atomic():
        applications = load_applications(ids)
        facts = Facts.load(applications)
        now = timezone.now()
        evaluations = []
        eligible = 0
        for application in applications:
            assessment = get_kind(application.kind).assess(application, facts)
            eligible += assessment.eligible
            for result in assessment.results:
                if result.outcome == FAIL:
                    failures[result.code] += 1
            evaluations.append(evaluation_of(application, assessment, stage="draft", at=now))
        store_evaluations(evaluations)
    return eligible


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the drafts and evaluations")
    parser.add_argument("--profile", action="store_true", help="cProfile the timed part")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=0,
        help="worker tuning: gc.freeze() after start-up and this first-generation threshold "
        "(CPython's default is 700; see bench/README.md)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    if args.gc_threshold:
        tune_gc(args.gc_threshold)
    from django.db import connection

    from zhipei.subsidies.models import Application

    Application.objects.filter(payee_name=MARK, status="draft").delete()  # an aborted run
    vacuum()
    started = time.perf_counter()
    ids = create_drafts(args.applications, args.seed)
    print(
        json.dumps(
            {"drafts_created": len(ids), "seconds": round(time.perf_counter() - started, 1)}
        ),
        flush=True,
    )

    counter = QueryCounter()
    failures: Counter[str] = Counter()
    eligible = 0
    per_batch: list[int] = []
    profiler = cProfile.Profile() if args.profile else None
    with connection.execute_wrapper(counter):
        began, cpu_began = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for start in range(0, len(ids), args.batch):
            before = counter.count
            eligible += evaluate_batch(ids[start : start + args.batch], failures)
            per_batch.append(counter.count - before)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
    print(
        json.dumps(
            {
                "applications": len(ids),
                "batch": args.batch,
                "seconds": round(elapsed, 2),
                "applications_per_s": round(len(ids) / elapsed),
                # This process's CPU alone (the database server's work is not in it).
                "python_cpu_seconds": round(cpu, 2),
                "queries_per_batch": sorted(set(per_batch)),
                "eligible": eligible,
                "failures": dict(failures.most_common()),
                "gc_threshold": gc.get_threshold()[0],
                "load_average": os.getloadavg(),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            int(os.environ.get("PROFILE_LINES", "30"))
        )
    if not args.keep:
        Application.objects.filter(pk__in=ids).delete()
        vacuum()


if __name__ == "__main__":
    main()
