"""Pages for subsidy applications.

Applicants (a learner for themselves, an enterprise administrator for their enterprise): the
list of their claims, claiming from a certificate or a confirmed shutdown, the explained
eligibility, bank details, submitting, withdrawing, correcting after a return or a failed
payment. Officers: review queues per step with filters and batch review, one application with
the actions allowed to them at its step, the public notice list, conflict-of-interest
declarations.

Views parse forms and call subsidies.workflow / application_queries; they never write models.
Reads are scoped (application_queries): another person's application, or one outside the
officer's regions, is a 404. A refused act (not eligible, on hold, self-review, stale …) is
a message or a field error, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import OFFICER_ROLES, Role, User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import has_role, officer_prefixes
from zhipei.accounts.services import require_role
from zhipei.core.errors import DomainError, NotInScope, OnHold, StaleObject
from zhipei.core.forms import add_domain_error
from zhipei.core.money import plain_yuan
from zhipei.core.views import raise_for_scope_errors
from zhipei.enterprises import queries as enterprise_queries
from zhipei.enterprises.models import ShutdownDeclaration
from zhipei.learning.certificates.numbers import mask_name
from zhipei.learning.certificates.queries import valid_certificates_of
from zhipei.learning.models import CompletionCertificate
from zhipei.orgs.models import Enterprise, Organisation
from zhipei.orgs.queries import find_by_uscc, search_organisations
from zhipei.people.models import PersonCategory
from zhipei.people.queries import find_person_by_id_number
from zhipei.regions.models import Region
from zhipei.subsidies import application_queries as aq
from zhipei.subsidies import bulk, workflow
from zhipei.subsidies.errors import ConflictDeclared, NotEligible, SelfReview
from zhipei.subsidies.forms_applications import (
    TOKEN_RE,
    BankDetailsForm,
    BatchForm,
    ClaimForm,
    ConflictForm,
    EnterpriseClaimForm,
    EnterpriseRevisionForm,
    NoteForm,
    QueueFilterForm,
    new_form_token,
)
from zhipei.subsidies.kinds import KINDS, enterprise_online_training
from zhipei.subsidies.models import Application, ApplicationStatus, ConflictOfInterest, Programme

S = ApplicationStatus
PAGE_SIZE = 50
# A batch acts on at most this many applications (every match of the filters included);
# outcomes are listed one by one up to MAX_LISTED, beyond that only the refused ones.
MAX_BATCH = 10_000
MAX_LISTED = 200
TEMPLATES = "subsidies/applications/"
# Statuses whose current step an officer is working on (their deadline is shown).
OFFICER_STEPS = frozenset(
    {S.SUBMITTED, S.COUNTY_APPROVED, S.CITY_APPROVED, S.IN_PUBLICITY, S.FINANCE_APPROVED}
)


def _idempotency_key(request: HttpRequest, token: str, *parts: object) -> str:
    """The client's Idempotency-Key header when sent, else the form's token, qualified by
    what was chosen (the same page offers several claims; each click names its own)."""
    base = request.headers.get("Idempotency-Key", "").strip()[:60] or token
    if not base:
        return ""
    return ":".join([base, *(str(p) for p in parts)])[:100]


def _token_of(request: HttpRequest) -> str:
    """The posted form token when it looks like one (else nothing to replay)."""
    token = request.POST.get("token", "")
    return token if TOKEN_RE.match(token) else ""


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render(request, TEMPLATES + template, context, status=status)


# --- Applicants: lists ------------------------------------------------------------------------


@never_cache
@login_required
def my_applications(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    person = user.person
    applications = (
        Paginator(aq.applications_of_person(person), PAGE_SIZE).get_page(request.GET.get("page"))
        if person is not None
        else None
    )
    return _render(
        request,
        "mine.html",
        {
            "person": person,
            "page": applications,
            "administers": enterprise_queries.administered_enterprises(user).exists(),
        },
    )


@never_cache
@login_required
def enterprise_applications(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    page = Paginator(aq.applications_of_enterprise(enterprise), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return _render(request, "enterprise_list.html", {"enterprise": enterprise, "page": page})


def _enterprise(request: HttpRequest) -> Enterprise:
    """The enterprise the administrator acts for (`?enterprise=` picks among several)."""
    chosen = request.GET.get("enterprise") or request.POST.get("enterprise") or None
    enterprise = enterprise_queries.get_administered_enterprise(signed_in_user(request), chosen)
    if enterprise is None:
        raise PermissionDenied
    return enterprise


# --- Applicants: claiming from a certificate --------------------------------------------------


@dataclass
class CertificateOffer:
    certificate: Any
    kinds: list[tuple[str, str | Promise, Application | None]]  # kind, label, live claim


def _offers(user: User) -> tuple[list[Any], list[CertificateOffer]]:
    person = user.person
    assert person is not None
    certificates = valid_certificates_of(person)
    claimed = aq.live_claims_by_certificate(person)
    categories = list(
        PersonCategory.objects.filter(
            person=person, category__in=PersonCategory.LIVING_ALLOWANCE_GROUPS
        )
    )
    offers = []
    for certificate in certificates:
        wanted = [Programme.LEARNER_TRAINING]
        on = certificate.completed_on
        if any(c.valid_from <= on and (c.valid_to is None or on <= c.valid_to) for c in categories):
            wanted.append(Programme.LIVING_ALLOWANCE)
        kinds: list[tuple[str, str | Promise, Application | None]] = [
            (str(kind), Programme(kind).label, claimed.get((certificate.pk, kind)))
            for kind in wanted
            if kind in KINDS
        ]
        offers.append(CertificateOffer(certificate, kinds))
    return certificates, offers


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if user.person is None:
        return _render(request, "claim.html", {"person": None, "offers": []})
    certificates, offers = _offers(user)
    kinds = sorted({(k, label) for offer in offers for k, label, _c in offer.kinds})
    form = ClaimForm(request.POST or None, certificates=certificates, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = workflow.start_application(
                data["kind"],
                by=user,
                person=user.person,
                inputs={"certificate": data["certificate"]},
                idempotency_key=_idempotency_key(
                    request, data["token"], data["certificate"], data["kind"]
                ),
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            return redirect("subsidies:application_detail", pk=application.pk)
    return _render(
        request,
        "claim.html",
        {"person": user.person, "offers": offers, "form": form, "token": new_form_token()},
        status=422 if form.errors else 200,
    )


# --- Applicants: one application --------------------------------------------------------------


def _bank_form(application: Application, data: Any = None) -> BankDetailsForm:
    prefill = aq.bank_prefill(application)
    return BankDetailsForm(
        data,
        has_account=bool(application.account_masked),
        initial={"payee_name": prefill.payee_name, "bank_name": prefill.bank_name},
    )


def _can_revise(application: Application) -> bool:
    kind = KINDS.get(application.kind)
    return kind is not None and kind.revisable and application.status in workflow.REVISABLE_STATUSES


def _revision_certificates(application: Application) -> list[CompletionCertificate]:
    """What the correction form offers: the certificates the claim names now, and those the
    enterprise could add (staff on the roster who completed a course within the shutdown,
    not claimed elsewhere). The rules still decide."""
    inputs, enterprise = application.inputs, application.enterprise
    named = [pk for pk in inputs.get("certificates", ()) if isinstance(pk, int)]
    offered = {
        c.pk: c for c in CompletionCertificate.objects.filter(pk__in=named).select_related("person")
    }
    shutdown = inputs.get("shutdown")
    declaration = (
        enterprise_queries.declarations_of(enterprise).filter(pk=shutdown).first()
        if enterprise is not None and isinstance(shutdown, int)
        else None
    )
    if enterprise is not None and declaration is not None:
        for certificate in _eligible_certificates(enterprise, declaration):
            offered.setdefault(certificate.pk, certificate)
    return sorted(offered.values(), key=lambda c: (c.person.name, c.completed_on, c.pk))


def _revision_form(application: Application, data: Any = None) -> EnterpriseRevisionForm:
    inputs = application.inputs
    cost = inputs.get("actual_cost_fen")
    return EnterpriseRevisionForm(
        data,
        certificates=_revision_certificates(application),
        initial={
            "certificates": list(inputs.get("certificates", ())),
            "actual_cost": plain_yuan(cost) if isinstance(cost, int) and cost > 0 else "",
        },
        prefix="revise",
    )


def _applicant_page(
    request: HttpRequest,
    application: Application,
    *,
    bank_form: BankDetailsForm | None = None,
    revise_form: EnterpriseRevisionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    view = aq.application_view(application)
    prefill = aq.bank_prefill(application)
    if revise_form is None and _can_revise(application):
        revise_form = _revision_form(application)
    context = {
        "view": view,
        "application": application,
        "bank_form": bank_form or _bank_form(application),
        "revise_form": revise_form,
        "prefill": prefill,
        "can_submit": application.status in (S.DRAFT, S.RETURNED),
        "can_correct_bank": application.status == S.PAYMENT_FAILED,
        "can_withdraw": S.WITHDRAWN in workflow.ALLOWED.get(application.status, ()),
        "time_to_payment": workflow.time_to_payment(application),
        "officer_step": application.status in OFFICER_STEPS,
        "back_url": _back_url(application),
        "now": timezone.now(),
    }
    return _render(request, "detail.html", context, status=status)


def _back_url(application: Application) -> str:
    if application.enterprise_id:
        return reverse("subsidies:enterprise_applications")
    return reverse("subsidies:my_applications")


@never_cache
@login_required
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = aq.get_application_for_applicant(signed_in_user(request), pk)
    return _applicant_page(request, application)


def _save_bank_details(
    request: HttpRequest, application: Application, form: BankDetailsForm
) -> Application | None:
    """Store the details typed (an empty account number keeps the stored one); None and
    errors on the form when refused."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    unchanged = (
        not data["account_number"]
        and data["payee_name"] == application.payee_name
        and data["bank_name"] == application.bank_name
    )
    if unchanged:
        return application
    if not data["account_number"]:
        form.add_error("account_number", _("Enter the account number again to change the details."))
        return None
    try:
        return workflow.set_bank_details(
            application,
            payee_name=data["payee_name"],
            bank_name=data["bank_name"],
            account_number=data["account_number"],
            by=signed_in_user(request),
        )
    except DomainError as exc:
        raise_for_scope_errors(exc)
        add_domain_error(form, exc)
        return None


@never_cache
@login_required
@require_POST
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    """Bank details and submission in one step (a draft, or a returned application)."""
    application = aq.get_application_for_applicant(signed_in_user(request), pk)
    if application.status == S.SUBMITTED:
        messages.info(request, _("This application is already submitted."))
        return redirect("subsidies:application_detail", pk=application.pk)
    form = _bank_form(application, request.POST)
    saved = _save_bank_details(request, application, form)
    if saved is None:
        return _applicant_page(request, application, bank_form=form, status=422)
    try:
        workflow.submit(saved, by=signed_in_user(request))
    except DomainError as exc:
        raise_for_scope_errors(exc)
        if isinstance(exc, (NotEligible, OnHold)):
            messages.error(request, str(exc.message))
        else:
            add_domain_error(form, exc)
        saved.refresh_from_db()
        return _applicant_page(request, saved, bank_form=form, status=422)
    messages.success(request, _("Submitted. The labour bureau reviews it next."))
    return redirect("subsidies:application_detail", pk=application.pk)


@never_cache
@login_required
@require_POST
def application_revise(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct the staff or the cost of a draft or returned enterprise claim: the rules run
    again at once and the page shows the new reasons; the applicant then submits."""
    user = signed_in_user(request)
    application = aq.get_application_for_applicant(user, pk)
    detail = reverse("subsidies:application_detail", args=[application.pk])
    if not _can_revise(application):
        messages.error(request, _("This claim can no longer be corrected."))
        return redirect(detail)
    form = _revision_form(application, request.POST)
    if form.is_valid():
        inputs = form.claim_inputs(application.inputs.get("shutdown"))
        before = application.inputs
        try:
            saved = workflow.revise_inputs(application, inputs=inputs, by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            form.add_input_error(exc)
            application.refresh_from_db()
            if not _can_revise(application):  # moved on meanwhile (submitted, withdrawn)
                messages.error(request, str(exc.message))
                return redirect(detail)
        else:
            if saved.inputs == before:
                messages.info(request, _("Nothing was changed."))
            else:
                messages.success(
                    request,
                    _("The claim is corrected and was checked again: see the reasons below."),
                )
            return redirect(detail + "#eligibility")
    return _applicant_page(request, application, revise_form=form, status=422)


@never_cache
@login_required
@require_POST
def application_bank(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct the bank details after a failed payment: the next payment batch uses them."""
    application = aq.get_application_for_applicant(signed_in_user(request), pk)
    form = _bank_form(application, request.POST)
    if application.status != S.PAYMENT_FAILED:
        messages.error(request, _("Bank details can no longer be changed at this step."))
        return redirect("subsidies:application_detail", pk=application.pk)
    saved = _save_bank_details(request, application, form)
    if saved is None or form.errors:
        return _applicant_page(request, application, bank_form=form, status=422)
    messages.success(request, _("Bank details saved. The next payment batch uses them."))
    return redirect("subsidies:application_detail", pk=application.pk)


@login_required
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = signed_in_user(request)
    application = aq.get_application_for_applicant(user, pk)
    try:
        workflow.withdraw(application, by=user, note=request.POST.get("note", "")[:2000])
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The application is withdrawn."))
    return redirect("subsidies:application_detail", pk=application.pk)


@login_required
@require_POST
def application_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    """One tap on a claim Zhipei proposed (政策找人): submit it when the bank details are
    known, else go to the page to enter them."""
    application = aq.get_application_for_applicant(signed_in_user(request), pk)
    if application.status == S.SUBMITTED:
        return redirect("subsidies:application_detail", pk=application.pk)
    if application.status != S.DRAFT:
        messages.error(request, _("This application can no longer be submitted."))
        return redirect("subsidies:application_detail", pk=application.pk)
    if not application.account_masked:
        messages.info(request, _("Enter the bank account the allowance is paid into, then submit."))
        return redirect(reverse("subsidies:application_detail", args=[application.pk]) + "#bank")
    try:
        workflow.submit(application, by=signed_in_user(request))
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Submitted. The labour bureau reviews it next."))
    return redirect("subsidies:application_detail", pk=application.pk)


# --- Enterprise administrators: claiming for staff --------------------------------------------


def _eligible_certificates(enterprise: Enterprise, declaration: ShutdownDeclaration) -> list[Any]:
    """The kind's own query: certificates of staff on the roster completed within the
    shutdown, not yet claimed (pre-selected on the page; the rules still decide)."""
    return list(enterprise_online_training.eligible_certificates(enterprise, declaration))


@never_cache
@login_required
def enterprise_claim_start(request: HttpRequest) -> HttpResponse:
    enterprise = _enterprise(request)
    declarations = enterprise_queries.declarations_of(enterprise).filter(
        status=ShutdownDeclaration.Status.CONFIRMED
    )
    return _render(
        request,
        "enterprise_claim_start.html",
        {
            "enterprise": enterprise,
            "declarations": declarations,
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enterprise_claim(request: HttpRequest, declaration_pk: int) -> HttpResponse:
    user = signed_in_user(request)
    enterprise = _enterprise(request)
    declaration = enterprise_queries.get_declaration_for_admin(enterprise, declaration_pk)
    if declaration.status != ShutdownDeclaration.Status.CONFIRMED:
        raise Http404
    if request.method == "POST":
        # A replay (double click, retried request) finds its draft before the form is
        # checked: the certificates it claimed are no longer offered.
        replayed = aq.application_started_with(
            user, _idempotency_key(request, _token_of(request), declaration.pk)
        )
        if replayed is not None:
            return redirect("subsidies:application_detail", pk=replayed.pk)
    certificates = _eligible_certificates(enterprise, declaration)
    form = EnterpriseClaimForm(
        request.POST or None,
        certificates=certificates,
        initial={"certificates": [c.pk for c in certificates]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            application = workflow.start_application(
                Programme.ENTERPRISE_ONLINE_TRAINING,
                by=user,
                enterprise=enterprise,
                inputs=form.claim_inputs(declaration.pk),
                idempotency_key=_idempotency_key(
                    request, form.cleaned_data["token"], declaration.pk
                ),
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            form.add_input_error(exc)
        else:
            return redirect("subsidies:application_detail", pk=application.pk)
    return _render(
        request,
        "enterprise_claim.html",
        {
            "enterprise": enterprise,
            "declaration": declaration,
            "certificates": certificates,
            "form": form,
            "token": new_form_token(),
        },
        status=422 if form.errors else 200,
    )


# --- Officers: review queues ------------------------------------------------------------------


def _officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not any(has_role(user, role) for role in OFFICER_ROLES):
        raise PermissionDenied
    return user


def _step(user: User, code: str) -> aq.Step:
    step = aq.STEPS.get(code)
    if step is None:
        raise Http404
    if step not in aq.steps_for(user):
        raise PermissionDenied
    return step


def _regions_in_scope(user: User, step: aq.Step) -> Any:
    prefixes = officer_prefixes(user, roles=step.roles)
    regions = Region.objects.none()
    for prefix in prefixes:
        regions = regions | Region.objects.filter(scope_prefix__startswith=prefix)
    return regions.order_by("code")


def _filter_form(request: HttpRequest, user: User, step: aq.Step) -> QueueFilterForm:
    return QueueFilterForm(
        request.GET or None,
        kinds=[(k, Programme(k).label) for k in KINDS],
        statuses=[(s, S(s).label) for s in step.statuses],
        regions=_regions_in_scope(user, step),
    )


def _filters(form: QueueFilterForm) -> aq.QueueFilters:
    if not form.is_bound or not form.is_valid():
        return aq.QueueFilters()
    data = form.cleaned_data
    return aq.QueueFilters(
        kind=data.get("kind") or "",
        region=data.get("region"),
        status=data.get("status") or "",
        amount_min_fen=data.get("amount_min"),
        amount_max_fen=data.get("amount_max"),
        submitted_from=data.get("submitted_from"),
        submitted_to=data.get("submitted_to"),
        overdue=bool(data.get("overdue")),
    )


ACTION_LABELS: dict[str, str | Promise] = {
    "approve": gettext_lazy("Approve"),
    "return": gettext_lazy("Return for correction"),
    "reject": gettext_lazy("Reject"),
}


def _queue_page(
    request: HttpRequest,
    user: User,
    step: aq.Step,
    *,
    batch_form: BatchForm | None = None,
    outcomes: list[Outcome] | None = None,
    status: int = 200,
) -> HttpResponse:
    filter_form = _filter_form(request, user, step)
    queryset = aq.review_queue(user, step, _filters(filter_form))
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    steps = aq.steps_for(user)
    context = {
        "step": step,
        "steps": steps,
        # The public notice is the labour offices' (publicity_list); finance sees no link to it.
        "sees_publicity": any(Role.LABOUR_OFFICER in s.roles for s in steps),
        "filter_form": filter_form,
        "page": page,
        "query_string": query.urlencode(),
        "batch_form": batch_form
        or BatchForm(actions=[(a, ACTION_LABELS[a]) for a in step.actions]),
        "actions": [(a, ACTION_LABELS[a]) for a in step.actions],
        "outcomes": outcomes,
        "now": timezone.now(),
    }
    if getattr(request, "htmx", False) and request.method == "GET":
        return _render(request, "_partials/queue_results.html", context)
    return _render(request, "queue.html", context, status=status)


@never_cache
@login_required
def review_home(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    steps = aq.steps_for(user)
    if not steps:
        raise PermissionDenied
    return redirect("subsidies:review_queue", step=steps[0].code)


@never_cache
@login_required
def review_queue(request: HttpRequest, step: str) -> HttpResponse:
    user = _officer(request)
    return _queue_page(request, user, _step(user, step))


@dataclass(frozen=True)
class Outcome:
    pk: int
    number: str
    done: bool
    label: str | Promise
    message: str


# Why a batch left an application out, by the refusal's stable code (DomainError.code).
REFUSALS: dict[str, str | Promise] = {
    OnHold.code: gettext_lazy("On hold"),
    NotEligible.code: gettext_lazy("Not eligible"),
    SelfReview.code: gettext_lazy("Self-review"),
    ConflictDeclared.code: gettext_lazy("Conflict of interest"),
    StaleObject.code: gettext_lazy("Stale: someone acted first"),
}
DONE_LABELS: dict[str, str | Promise] = {
    "approve": gettext_lazy("Approved"),
    "return": gettext_lazy("Returned"),
    "reject": gettext_lazy("Rejected"),
    "uphold": gettext_lazy("Objection upheld"),
}


def _refusal(code: str) -> str | Promise:
    return REFUSALS.get(code, gettext_lazy("Refused"))


def _approver(status: str) -> Any:
    if status == S.SUBMITTED:
        return workflow.approve_at_county
    if status == S.COUNTY_APPROVED:
        return workflow.approve_at_city
    if status in (S.CITY_APPROVED, S.IN_PUBLICITY):
        return workflow.approve_for_payment
    return None


def _act(application: Application, action: str, *, by: User, note: str, expected: str) -> None:
    """One officer act on one application (the workflow service re-checks everything)."""
    if action == "approve":
        service = _approver(expected)
        if service is None:
            raise StaleObject()
        service(application, by=by, note=note)
    elif action == "return":
        workflow.return_for_correction(application, by=by, note=note)
    elif action == "reject":
        workflow.reject(application, by=by, note=note)
    elif action == "uphold":
        workflow.uphold_objection(application, by=by, note=note)
    else:
        raise Http404


def _batch_outcomes(
    step: aq.Step, queued: list[Application], *, action: str, by: User, note: str
) -> list[Outcome]:
    if action == "approve" and step.code in bulk.STEPS:
        return [
            Outcome(
                o.application_id,
                o.number,
                o.approved,
                DONE_LABELS[action] if o.approved else _refusal(o.code),
                o.message,
            )
            for o in bulk.approve_many(queued, by=by, step=step.code, note=note)
        ]
    outcomes = []
    for application in queued:
        try:
            _act(application, action, by=by, note=note, expected=application.status)
        except DomainError as exc:
            outcomes.append(
                Outcome(
                    application.pk, application.number, False, _refusal(exc.code), str(exc.message)
                )
            )
        else:
            outcomes.append(
                Outcome(application.pk, application.number, True, DONE_LABELS[action], "")
            )
    return outcomes


@never_cache
@login_required
@require_POST
def review_batch(request: HttpRequest, step: str) -> HttpResponse:
    """One action on the selected applications of a queue — or on every application the
    queue's filters match — with one outcome per application."""
    user = _officer(request)
    the_step = _step(user, step)
    actions = [(a, ACTION_LABELS[a]) for a in the_step.actions]
    form = BatchForm(request.POST, actions=actions)
    if not form.is_valid():
        return _queue_page(request, user, the_step, batch_form=form, status=422)
    data = form.cleaned_data
    queue = aq.review_queue(user, the_step)
    if data["all_matching"]:
        matching = aq.review_queue(user, the_step, _filters(_filter_form(request, user, the_step)))
        wanted = list(matching.values_list("pk", flat=True)[:MAX_BATCH])
    else:
        wanted = list(dict.fromkeys(data["applications"]))
    found = {a.pk: a for a in queue.filter(pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    outcomes = _batch_outcomes(
        the_step,
        [found[pk] for pk in wanted if pk in found],
        action=data["action"],
        by=user,
        note=data["note"],
    )
    outcomes += [
        Outcome(pk, f"#{pk}", False, gettext_lazy("Refused"), _("Not in this queue."))
        for pk in missing
    ]
    done = sum(1 for o in outcomes if o.done)
    messages.info(
        request,
        _("%(done)s of %(total)s applications done; the others are listed with the reason.")
        % {"done": done, "total": len(outcomes)},
    )
    shown = [o for o in outcomes if not o.done]
    if len(outcomes) <= MAX_LISTED:
        shown = outcomes
    return _queue_page(request, user, the_step, outcomes=shown)


# --- Officers: one application ----------------------------------------------------------------


def _may(user: User, role: str, region: Region | None, *, level: bool = False) -> bool:
    if region is None:
        return False
    try:
        require_role(user, role, region=region, level=region.level if level else None)
    except DomainError:
        return False
    return True


def officer_actions(user: User, application: Application) -> tuple[list[str], str]:
    """The acts this officer may take on the application at its step, and — when a rule of
    the review forbids them all — why (self-review, a declared conflict)."""
    status, target = application.status, application.review_region
    actions: list[str] = []
    if status in (S.SUBMITTED, S.COUNTY_APPROVED) and _may(
        user, Role.LABOUR_OFFICER, target, level=True
    ):
        actions = ["approve", "return", "reject"]
    elif status in (S.CITY_APPROVED, S.IN_PUBLICITY):
        if _may(user, Role.FINANCE_OFFICER, target):
            actions.append("approve")
        city = workflow.route(application, Region.Level.PREFECTURE)
        if _may(user, Role.LABOUR_OFFICER, city):
            actions += ["uphold", "reject"] if status == S.IN_PUBLICITY else ["reject"]
    elif status == S.PAYMENT_FAILED and _may(user, Role.FINANCE_OFFICER, target):
        actions = ["reject"]
    if not actions:
        return [], ""
    try:
        workflow.check_reviewer(application, user)
    except DomainError as exc:
        return [], str(exc.message)
    return actions, ""


def _officer_page(
    request: HttpRequest,
    application: Application,
    *,
    note_form: NoteForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = signed_in_user(request)
    actions, barred = officer_actions(user, application)
    context = {
        "view": aq.application_view(application),
        "application": application,
        "actions": actions,
        "barred": barred,
        "note_form": note_form or NoteForm(),
        "publicity_running": application.status == S.IN_PUBLICITY
        and application.due_at is not None
        and timezone.now() < application.due_at,
        "time_to_payment": workflow.time_to_payment(application),
        "officer_step": application.status in OFFICER_STEPS,
        "now": timezone.now(),
    }
    return _render(request, "officer_detail.html", context, status=status)


@never_cache
@login_required
def officer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    application = aq.get_application_for_officer(_officer(request), pk)
    return _officer_page(request, application)


@never_cache
@login_required
@require_POST
def officer_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _officer(request)
    application = aq.get_application_for_officer(user, pk)
    if action not in DONE_LABELS:
        raise Http404
    form = NoteForm(request.POST)
    form.is_valid()
    expected = request.POST.get("expected", "")
    if expected != application.status:
        messages.error(
            request,
            _("This application is now “%(status)s”; someone else acted on it first.")
            % {"status": application.get_status_display()},
        )
        return redirect("subsidies:officer_detail", pk=application.pk)
    try:
        _act(
            application,
            action,
            by=user,
            note=form.cleaned_data.get("note", ""),
            expected=expected,
        )
    except DomainError as exc:
        if isinstance(exc, NotInScope):
            raise Http404 from exc
        if exc.field == "note":
            add_domain_error(form, exc)
            application.refresh_from_db()
            return _officer_page(request, application, note_form=form, status=422)
        messages.error(request, str(exc.message))
    else:
        messages.success(
            request,
            _("%(number)s: %(outcome)s.")
            % {"number": application.number, "outcome": DONE_LABELS[action]},
        )
    return redirect("subsidies:officer_detail", pk=application.pk)


# --- Officers: public notice ------------------------------------------------------------------


@never_cache
@login_required
def publicity_list(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if not has_role(user, Role.LABOUR_OFFICER):
        raise PermissionDenied
    page = Paginator(aq.in_publicity_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "application": a,
            "applicant": mask_name(a.person.name) if a.person is not None else str(a.enterprise),
            "ends_on": timezone.localtime(a.due_at).date() if a.due_at else None,
        }
        for a in page
    ]
    return _render(
        request, "publicity.html", {"page": page, "rows": rows, "today": timezone.localdate()}
    )


# --- Officers: conflicts of interest ----------------------------------------------------------


def _conflicts_page(
    request: HttpRequest, user: User, form: ConflictForm, *, status: int = 200
) -> HttpResponse:
    declarations = ConflictOfInterest.objects.filter(officer=user).select_related(
        "person", "enterprise__organisation"
    )
    return _render(
        request,
        "conflicts.html",
        {"form": form, "declarations": declarations.order_by("withdrawn_at", "-declared_at")},
        status=status,
    )


def _find_enterprise(user: User, text: str) -> Enterprise:
    """An enterprise by its credit code (anywhere) or by name within the officer's regions."""
    organisation: Organisation | None = find_by_uscc(text) if len(text.strip()) == 18 else None
    if organisation is None:
        matches = list(search_organisations(user, text=text, capacity="enterprise")[:2])
        if len(matches) > 1:
            raise _FieldError(_("Several enterprises match; enter the credit code."))
        organisation = matches[0] if matches else None
    enterprise = getattr(organisation, "enterprise", None) if organisation else None
    if not isinstance(enterprise, Enterprise):
        raise _FieldError(_("No enterprise with this credit code or name."))
    return enterprise


class _FieldError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def conflicts(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    if request.method != "POST":
        return _conflicts_page(request, user, ConflictForm())
    form = ConflictForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["party"] == ConflictForm.PERSON:
                person = find_person_by_id_number(data["id_number"])
                if person is None:
                    form.add_error("id_number", _("No person with this ID number."))
                else:
                    workflow.declare_conflict(by=user, reason=data["reason"], person=person)
            else:
                try:
                    enterprise = _find_enterprise(user, data["enterprise"])
                except _FieldError as exc:
                    form.add_error("enterprise", exc.message)
                else:
                    workflow.declare_conflict(by=user, reason=data["reason"], enterprise=enterprise)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        if not form.errors:
            messages.success(request, _("Declared. Claims of this party now go to other officers."))
            return redirect("subsidies:conflicts")
    return _conflicts_page(request, user, form, status=422)


@login_required
@require_POST
def conflict_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    try:
        declaration = ConflictOfInterest.objects.get(pk=pk, officer=user)
    except ConflictOfInterest.DoesNotExist as exc:
        raise Http404 from exc
    workflow.withdraw_conflict(declaration, by=user)
    messages.success(request, _("The declaration is withdrawn."))
    return redirect("subsidies:conflicts")
