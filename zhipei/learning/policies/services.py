"""Every write on crediting policies: a new version from a date for a region, and a request
to re-apply the policy in force to a period (carried out by a background task). Each is
permission-checked, validated field by field and audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.audit.services import record
from zhipei.core.errors import InvalidInput
from zhipei.learning.crediting.rules import Params
from zhipei.learning.models import CreditingPolicy, RecreditRun
from zhipei.learning.queries import policy_in_force
from zhipei.learning.services import check_period, recredit_period
from zhipei.regions.models import Region

logger = logging.getLogger("zhipei.learning")

# Bounds of each parameter (policy-rules.md §2 and §15: 1 class hour = 45 minutes in the
# places cited; the others are engineering limits that keep a typo from crediting nothing or
# everything).
MINUTES_PER_CLASS_HOUR = (1, 240)
DAILY_CAP_MINUTES = (1, 1440)
FACE_CHECK_INTERVAL_MINUTES = (1, 1440)
IDLE_AFTER_MINUTES = (1, 240)
MAX_RECREDIT_DAYS = 366


@dataclass(frozen=True)
class PolicyDraft:
    """A crediting policy version as an officer filled it in, before it is saved."""

    region: Region | None
    effective_from: date
    effective_to: date | None
    minutes_per_class_hour: int
    daily_cap_minutes: int | None
    face_check_required: bool
    face_check_interval_minutes: int | None
    idle_after_minutes: int
    allow_seek_forward: bool

    def params(self) -> Params:
        return Params(
            minutes_per_class_hour=self.minutes_per_class_hour,
            daily_cap_minutes=self.daily_cap_minutes,
            face_check_required=self.face_check_required,
            face_check_interval_minutes=self.face_check_interval_minutes,
            idle_after_minutes=self.idle_after_minutes,
            allow_seek_forward=self.allow_seek_forward,
        )


class PolicyInvalid(InvalidInput):
    """A draft with bad values: every problem, by field."""

    code = "crediting_policy_invalid"

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(_("Correct the values marked below."))


def _check_int(
    errors: dict[str, list[str]],
    name: str,
    value: object,
    bounds: tuple[int, int],
    *,
    optional: bool = False,
) -> None:
    low, high = bounds
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.setdefault(name, []).append(
            _("Enter a whole number of minutes from %(low)d to %(high)d.")
            % {"low": low, "high": high}
        )


def validate_draft(draft: PolicyDraft) -> None:
    """Raises PolicyInvalid listing every bad value (nothing is saved)."""
    errors: dict[str, list[str]] = {}
    _check_int(
        errors, "minutes_per_class_hour", draft.minutes_per_class_hour, MINUTES_PER_CLASS_HOUR
    )
    _check_int(
        errors, "daily_cap_minutes", draft.daily_cap_minutes, DAILY_CAP_MINUTES, optional=True
    )
    _check_int(
        errors,
        "face_check_interval_minutes",
        draft.face_check_interval_minutes,
        FACE_CHECK_INTERVAL_MINUTES,
        optional=True,
    )
    _check_int(errors, "idle_after_minutes", draft.idle_after_minutes, IDLE_AFTER_MINUTES)
    if draft.effective_to is not None and draft.effective_to < draft.effective_from:
        errors.setdefault("effective_to", []).append(_("The last day is before the first day."))
    if CreditingPolicy.objects.filter(
        region=draft.region, effective_from=draft.effective_from
    ).exists():
        errors.setdefault("effective_from", []).append(
            _("A version for this region already starts on this day; choose another day.")
        )
    if errors:
        raise PolicyInvalid(errors)


def require_policy_officer(by: User, region: Region | None) -> None:
    """A labour officer whose subtree holds `region`; the national policy needs a system
    administrator. NotAllowed / NotInScope otherwise."""
    if region is None:
        require_role(by, Role.SYSTEM_ADMIN)
    else:
        require_role(by, Role.LABOUR_OFFICER, region=region)


@dataclass(frozen=True)
class ParameterRow:
    name: str
    current: object
    proposed: object

    @property
    def changed(self) -> bool:
        return self.current != self.proposed


@dataclass(frozen=True)
class PolicyPreview:
    """What the region's learners would be credited under from `on` (the draft's first day):
    the parameters in force now for that day against the draft's. Sub-regions with a policy
    of their own in force that day keep theirs (`kept_by`)."""

    region: Region | None
    on: date
    current: Params
    current_policy: CreditingPolicy | None
    proposed: Params
    rows: list[ParameterRow] = field(default_factory=list)
    kept_by: list[CreditingPolicy] = field(default_factory=list)


def preview_crediting_policy(draft: PolicyDraft, *, by: User) -> PolicyPreview:
    """Check the actor and the values, and compare the draft with the policy in force on its
    first day. Raises NotAllowed, NotInScope, PolicyInvalid."""
    require_policy_officer(by, draft.region)
    validate_draft(draft)
    current, current_policy = policy_in_force(draft.region, draft.effective_from)
    proposed = draft.params()
    current_json, proposed_json = current.to_json(), proposed.to_json()
    rows = [ParameterRow(name, current_json[name], proposed_json[name]) for name in proposed_json]
    return PolicyPreview(
        region=draft.region,
        on=draft.effective_from,
        current=current,
        current_policy=current_policy,
        proposed=proposed,
        rows=rows,
        kept_by=_kept_by(draft.region, draft.effective_from),
    )


def _kept_by(region: Region | None, day: date) -> list[CreditingPolicy]:
    """Policies of regions below `region` in force on `day` (they override it there)."""
    below = CreditingPolicy.objects.filter(effective_from__lte=day).exclude(effective_to__lt=day)
    if region is None:
        below = below.filter(region__isnull=False)
    else:
        below = below.filter(region__scope_prefix__startswith=region.scope_prefix).exclude(
            region=region
        )
    return list(below.select_related("region").order_by("region__code", "-effective_from"))


@transaction.atomic
def create_crediting_policy(draft: PolicyDraft, *, by: User) -> CreditingPolicy:
    """Save a new crediting policy version for a region from a date (a version is never edited:
    a change is a new version). The region's learners are credited under it from its first
    day on; days already credited keep their result until the period is re-applied
    (request_recredit). Raises NotAllowed, NotInScope, PolicyInvalid."""
    require_policy_officer(by, draft.region)
    validate_draft(draft)
    policy = CreditingPolicy.objects.create(
        region=draft.region,
        effective_from=draft.effective_from,
        effective_to=draft.effective_to,
        minutes_per_class_hour=draft.minutes_per_class_hour,
        daily_cap_minutes=draft.daily_cap_minutes,
        face_check_required=draft.face_check_required,
        face_check_interval_minutes=draft.face_check_interval_minutes,
        idle_after_minutes=draft.idle_after_minutes,
        allow_seek_forward=draft.allow_seek_forward,
        created_at=timezone.now(),
    )
    before, before_policy = policy_in_force(draft.region, draft.effective_from - timedelta(days=1))
    record(
        "learning.crediting_policy.created",
        actor=by,
        obj=policy,
        region_code=draft.region.code if draft.region is not None else "",
        data={
            "effective_from": draft.effective_from.isoformat(),
            "effective_to": draft.effective_to.isoformat() if draft.effective_to else None,
            "parameters": draft.params().to_json(),
            "replaces": before_policy.pk if before_policy is not None else None,
            "parameters_before": before.to_json(),
        },
    )
    return policy


# --- Re-applying a period ----------------------------------------------------------------------


@transaction.atomic
def request_recredit(
    region: Region, *, period_start: date, period_end: date, by: User
) -> RecreditRun:
    """Queue the re-application of the crediting policy in force to the learners of
    `region`'s subtree for every day from period_start to period_end (inclusive, at most a
    year, not after today). The background task starts after this transaction commits.
    Raises NotAllowed, NotInScope, InvalidInput (on the field at fault)."""
    require_role(by, Role.LABOUR_OFFICER, region=region)
    check_period(period_start, period_end)
    if period_end > timezone.localdate():
        raise InvalidInput(_("The period cannot end after today."), field="period_end")
    if (period_end - period_start).days + 1 > MAX_RECREDIT_DAYS:
        raise InvalidInput(
            _("Re-apply at most %(days)d days at a time.") % {"days": MAX_RECREDIT_DAYS},
            field="period_start",
        )
    run = RecreditRun.objects.create(
        region=region,
        period_start=period_start,
        period_end=period_end,
        requested_by=by,
        requested_at=timezone.now(),
    )
    record(
        "learning.crediting.recredit_requested",
        actor=by,
        obj=run,
        region_code=region.code,
        data={"period_start": period_start.isoformat(), "period_end": period_end.isoformat()},
    )
    # Imported here: the tasks module imports this one.
    from zhipei.learning.tasks import recredit_run

    pk = run.pk
    transaction.on_commit(lambda: recredit_run.enqueue(pk))
    return run


def _move(run_id: int, expected: str, to: str, **values: object) -> bool:
    changed = RecreditRun.objects.filter(pk=run_id, status=expected).update(status=to, **values)
    return changed == 1


def run_recredit(run_id: int) -> RecreditRun | None:
    """Carry out a queued run (the task's body): queued → running → done with the number of
    learners and days recomputed, or failed. A run already picked up by another worker is
    left alone; re-running a period is harmless anyway (crediting a day is idempotent)."""
    run = RecreditRun.objects.select_related("region", "requested_by").filter(pk=run_id).first()
    if run is None:
        return None
    if not _move(
        run_id, RecreditRun.Status.QUEUED, RecreditRun.Status.RUNNING, started_at=timezone.now()
    ):
        run.refresh_from_db()
        return run
    try:
        summary = recredit_period(
            run.period_start, run.period_end, region=run.region, by=run.requested_by
        )
    except Exception as exc:
        logger.exception("recredit run %s failed", run_id)
        _move(
            run_id,
            RecreditRun.Status.RUNNING,
            RecreditRun.Status.FAILED,
            finished_at=timezone.now(),
            error=type(exc).__name__[:200],
        )
    else:
        _move(
            run_id,
            RecreditRun.Status.RUNNING,
            RecreditRun.Status.DONE,
            finished_at=timezone.now(),
            people=summary.people,
            days_recomputed=summary.days,
        )
    run.refresh_from_db()
    return run
