"""Officer pages for crediting policies: the versions that apply in the officer's regions
(labour and finance officers read), a new version from a date with a preview against the
parameters in force (labour officers, for regions in their subtree), and re-applying the
policy in force to a period in the background, with the run's result. Views parse forms and
call policies.services / policies.queries; NotInScope becomes 404, NotAllowed 403."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import officer_prefixes
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.text import ascii_digits
from zhipei.core.views import raise_for_scope_errors
from zhipei.learning.models import RecreditRun
from zhipei.learning.policies import queries, services
from zhipei.learning.policies.forms import PARAMETER_LABELS, CreditingPolicyForm, RecreditForm
from zhipei.learning.queries import policy_in_force

RECENT_RUNS = 20


def _officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not officer_prefixes(user):
        raise PermissionDenied
    return user


def _policy_officer(request: HttpRequest) -> User:
    user = _officer(request)
    if not queries.can_set_policy(user):
        raise PermissionDenied
    return user


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def policy_list(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    today = timezone.localdate()
    return render(
        request,
        "learning/policies/list.html",
        {
            "policies": list(queries.policies_for(user)),
            "in_force": queries.in_force_for(user, today),
            "labels": PARAMETER_LABELS,
            "runs": list(queries.runs_for(user)[:RECENT_RUNS]),
            "can_set_policy": queries.can_set_policy(user),
            "today": today,
        },
    )


def _digest(form: CreditingPolicyForm) -> str:
    """Fingerprint of what was previewed, so Save stores exactly what the officer saw."""
    data = {name: form.cleaned_data.get(name) for name in sorted(form.fields)}
    region = data.get("region")
    data["region"] = region.pk if region is not None else None
    encoded = json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


def _initial(request: HttpRequest, user: User) -> dict[str, Any]:
    """Start from the parameters in force today in the first region offered (or the one in
    ?region=), so the officer changes only what is new."""
    regions = queries.regions_for_policy_officer(user)
    wanted = request.GET.get("region", "")
    region = regions.filter(pk=wanted).first() if ascii_digits(wanted) else None
    region = region or regions.first()
    initial: dict[str, Any] = {"effective_from": timezone.localdate()}
    if region is not None:
        params, _policy = policy_in_force(region, timezone.localdate())
        initial |= {"region": region, **params.to_json()}
    return initial


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def policy_new(request: HttpRequest) -> HttpResponse:
    user = _policy_officer(request)
    regions = queries.regions_for_policy_officer(user)
    context: dict[str, Any] = {"labels": PARAMETER_LABELS}
    if request.method != "POST":
        form = CreditingPolicyForm(regions=regions, initial=_initial(request, user))
        return render(request, "learning/policies/form.html", context | {"form": form})

    form = CreditingPolicyForm(request.POST, regions=regions)
    status = 422
    if form.is_valid():
        draft = form.draft()
        digest = _digest(form)
        try:
            if request.POST.get("action") == "save" and request.POST.get("previewed") == digest:
                policy = services.create_crediting_policy(draft, by=user)
                messages.success(
                    request,
                    _(
                        "The new crediting policy version is saved. Days already credited keep "
                        "their result until you re-apply the policy to them."
                    ),
                )
                query = urlencode(
                    {
                        "region": policy.region_id or "",
                        "period_start": policy.effective_from.isoformat(),
                    }
                )
                return redirect(f"{reverse('learning:recredit')}?{query}")
            preview = services.preview_crediting_policy(draft, by=user)
        except services.PolicyInvalid as exc:
            for name, problems in exc.errors.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            status = 200
            context |= {"preview": preview, "digest": digest}
    return render(request, "learning/policies/form.html", context | {"form": form}, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def recredit(request: HttpRequest) -> HttpResponse:
    user = _policy_officer(request)
    regions = queries.regions_for_policy_officer(user)
    if request.method != "POST":
        initial: dict[str, Any] = {"period_end": timezone.localdate()}
        region_id = request.GET.get("region", "")
        if ascii_digits(region_id):
            initial["region"] = regions.filter(pk=region_id).first()
        if request.GET.get("period_start"):
            initial["period_start"] = request.GET["period_start"]
        form = RecreditForm(regions=regions, initial=initial)
        return render(request, "learning/policies/recredit.html", {"form": form})
    form = RecreditForm(request.POST, regions=regions)
    if form.is_valid():
        data = form.cleaned_data
        try:
            run = services.request_recredit(
                data["region"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                by=user,
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            return redirect("learning:recredit_run", pk=run.pk)
    return render(request, "learning/policies/recredit.html", {"form": form}, status=422)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def recredit_run(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    run = queries.get_run_for(user, pk)
    finished = run.status in (RecreditRun.Status.DONE, RecreditRun.Status.FAILED)
    template = (
        "learning/policies/_run_status.html"
        if request.headers.get("HX-Request")
        else "learning/policies/run.html"
    )
    return render(request, template, {"run": run, "finished": finished})
