"""The subsidies app's recurring jobs: proposing living allowances to the people policy finds
(政策找人, subsidies.proposals), every hour."""

from __future__ import annotations

from dataclasses import asdict

from django_tasks import task

from zhipei.core.scheduler import register_job
from zhipei.subsidies import proposals

PROPOSE_EVERY_SECONDS = 3600


@task()
def propose_living_allowances() -> dict[str, int]:
    return asdict(proposals.propose_living_allowances())


register_job(
    "subsidies.propose_living_allowances",
    every_seconds=PROPOSE_EVERY_SECONDS,
    task=propose_living_allowances,
)
