"""Batch approval (issue 5: 10,000 applications approved in under 10 s). Not a test.

Prepares `--applications` submitted learner-training applications of people in one county of
the store filled by bench/subsidy_data.py — each assessed by the kind's rules and kept only if
eligible, with its line (live) and amount, routed to the county, as `workflow.submit` leaves
them (the submission's evaluation, step and audit rows are left out: approval does not read
them) — then times, wall clock, `bulk.approve_many(…, step="county")` by the county's officer:
locks, checks, one Facts per chunk, evaluations, status updates, steps and audit events, all
committed. `--city` and `--finance` time the next steps over the same applications too. The
applications are deleted afterwards (their audit events stay: the log is append-only).

    DATABASE_URL=postgres://…/zhipei_subbench_data .venv/bin/python bench/subsidy_batch_approve.py
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
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

MARK = "bench-batch-approve"


def prepare(count: int, county_code: str, seed: int) -> list[int]:
    """Submitted, eligible applications for `count` people of the county, on their third
    certificate (never claimed by the earlier claims, which are on the first; the person's
    earlier claims still count for the duplicate, yearly count and cap rules)."""
    from django.db import transaction
    from django.utils import timezone

    from bench.subsidy_data import CERTIFICATES_PER_PERSON
    from zhipei.people.models import Person
    from zhipei.regions.models import Region
    from zhipei.subsidies import workflow
    from zhipei.subsidies.facts import Facts
    from zhipei.subsidies.kinds import get_kind
    from zhipei.subsidies.models import (
        Application,
        ApplicationLine,
        ApplicationStatus,
        ApplicationStep,
        Programme,
    )

    county = Region.objects.get(code=county_code, valid_to_year__isnull=True)
    people = list(
        Person.objects.filter(region=county, verification_provider="bench-synthetic").values_list(
            "pk", flat=True
        )
    )
    random.Random(seed).shuffle(people)
    now = timezone.now()
    due = workflow._end_of(
        workflow.add_working_days(
            timezone.localdate(), workflow.step_days()[ApplicationStatus.SUBMITTED]
        )
    )
    kind = get_kind(Programme.LEARNER_TRAINING)
    kept: list[int] = []
    for start in range(0, len(people), 2000):
        if len(kept) >= count:
            break
        with transaction.atomic():
            rows = Application.objects.bulk_create(
                [
                    Application(
                        kind=Programme.LEARNER_TRAINING,
                        person_id=p,
                        region=county,
                        status=ApplicationStatus.SUBMITTED,
                        status_changed_at=now,
                        review_region=county,
                        due_at=due,
                        inputs={"certificate": CERTIFICATES_PER_PERSON * p},  # k = 2
                        created_at=now,
                        submitted_at=now,
                        first_submitted_at=now,
                        payee_name=MARK,
                        bank_name="中国工商银行",
                        account_ciphertext=b"bench-not-an-account",
                        account_key_id="bench",
                        account_masked="6222 **** 0123",
                    )
                    for p in people[start : start + 2000]
                ]
            )
            facts = Facts.load(rows)
            lines, steps, refused = [], [], []
            for application in rows:
                assessment = kind.assess(application, facts)
                if not assessment.eligible or len(kept) >= count:
                    refused.append(application.pk)
                    continue
                kept.append(application.pk)
                application.amount_fen = assessment.amount_fen
                application.fund_source = assessment.fund_source
                application.policy_date = assessment.policy_date
                application.parameters = assessment.parameters_snapshot()
                lines += workflow.line_rows(application, assessment, live=True)
                steps.append(
                    ApplicationStep(
                        application=application,
                        from_status=ApplicationStatus.DRAFT,
                        to_status=ApplicationStatus.SUBMITTED,
                        at=now,
                        review_region=county,
                    )
                )
            Application.objects.filter(pk__in=refused).delete()
            dropped = set(refused)
            Application.objects.bulk_update(
                [a for a in rows if a.pk not in dropped],
                ["amount_fen", "fund_source", "policy_date", "parameters"],
                batch_size=1000,
            )
            ApplicationLine.objects.bulk_create(lines)
            ApplicationStep.objects.bulk_create(steps)
    return kept


def timed(label: str, ids: list[int], by: Any, step: str, profile: bool) -> None:
    from django.db import connection

    from bench.subsidy_eligibility import QueryCounter
    from zhipei.subsidies import bulk

    counter = QueryCounter()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(counter):
        began, cpu_began = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        outcomes = bulk.approve_many(ids, by=by, step=step)
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - began
        cpu = time.process_time() - cpu_began
    codes = Counter(o.code or "approved" for o in outcomes)
    print(
        json.dumps(
            {
                "step": label,
                "applications": len(ids),
                "seconds": round(elapsed, 2),
                "applications_per_s": round(len(ids) / elapsed),
                "python_cpu_seconds": round(cpu, 2),  # this process only, not the server's
                "queries": counter.count,
                "outcomes": dict(codes),
                "gc_threshold": gc.get_threshold()[0],
                "load_average": os.getloadavg(),
            }
        ),
        flush=True,
    )
    if profiler:
        pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
            int(os.environ.get("PROFILE_LINES", "25"))
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applications", type=int, default=10_000)
    parser.add_argument("--county", default="420102")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--city", action="store_true", help="then time the city approval")
    parser.add_argument("--finance", action="store_true", help="then time finance approval")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=0,
        help="worker tuning as in subsidy_eligibility.py (gc.freeze + this threshold)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the applications")
    args = parser.parse_args()

    import django

    django.setup()
    from django.utils import timezone

    from bench.subsidy_eligibility import tune_gc, vacuum
    from zhipei.accounts.models import User
    from zhipei.regions.models import Region
    from zhipei.subsidies.models import Application

    Application.objects.filter(payee_name=MARK).delete()  # an earlier run's
    vacuum()
    began = time.perf_counter()
    ids = prepare(args.applications, args.county, args.seed)
    print(
        json.dumps({"prepared": len(ids), "seconds": round(time.perf_counter() - began, 1)}),
        flush=True,
    )
    if args.gc_threshold:
        tune_gc(args.gc_threshold)
    if len(ids) < args.applications:
        print(json.dumps({"warning": "fewer eligible people in the county than asked"}))
    county = Region.objects.get(code=args.county, valid_to_year__isnull=True)
    city_code = county.parent.code if county.parent else args.county
    timed(
        "county",
        ids,
        User.objects.get(username=f"bench-county-{args.county}"),
        "county",
        args.profile,
    )
    if args.city or args.finance:
        timed("city", ids, User.objects.get(username=f"bench-city-{city_code}"), "city", False)
    if args.finance:
        Application.objects.filter(pk__in=ids).update(
            due_at=timezone.now() - timedelta(seconds=1)  # the public notice is over
        )
        timed(
            "finance",
            ids,
            User.objects.get(username=f"bench-finance-{city_code}"),
            "finance",
            False,
        )
    if not args.keep:
        Application.objects.filter(pk__in=ids).delete()
        vacuum()


if __name__ == "__main__":
    main()
