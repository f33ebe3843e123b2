"""Pages of platform selection.

- Labour officers (province or city) run calls: list, create, open, start the review, assign
  reviewers, decide, publish (the new platforms' first API secrets are shown once, on the
  publication response), and suspend / reinstate / remove listed platforms.
- Labour officers assigned as reviewers score applications or declare a conflict.
- Platform operators see open calls, draft an application with documents, submit it, and
  see their platform's listing and API credentials (metadata only).
- Everyone (no login) sees the public list of selected platforms with their history.

Views parse forms and call selection.services / selection.queries. NotAllowed becomes 403,
NotInScope 404, other domain errors are shown on the form or at the top of the page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhipei.accounts.models import User
from zhipei.accounts.queries import signed_in_user
from zhipei.catalog.models import PlatformApplication, PlatformCall, Review
from zhipei.catalog.selection import queries, services
from zhipei.catalog.selection.forms import (
    ApplicationForm,
    CallForm,
    ConflictForm,
    DecideForm,
    DocumentForm,
    ReasonForm,
    ReviewersForm,
    ScoreForm,
)
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.views import raise_for_scope_errors
from zhipei.orgs.models import Platform

PAGE_SIZE = 25


def _officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.is_labour_officer(user):
        raise PermissionDenied
    return user


def _operator(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.is_platform_operator(user):
        raise PermissionDenied
    return user


def _report(request: HttpRequest, exc: DomainError) -> None:
    """A domain error of a button without a form: 403/404, or a message at the top."""
    raise_for_scope_errors(exc)
    messages.error(request, str(exc.message))


def _on_form(request: HttpRequest, form: forms.Form, exc: DomainError) -> bool:
    """Put a domain error on the form when it names one of its fields (True: re-render the
    form); otherwise (a refused transition, a stale copy) say it at the top of the page the
    caller redirects to (False)."""
    raise_for_scope_errors(exc)
    if exc.field in form.fields:
        add_domain_error(form, exc)
        return True
    messages.error(request, str(exc.message))
    return False


# --- Officer: calls ---------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def call_list(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    page = Paginator(queries.calls_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/selection/call_list.html",
        {"page": page, "can_create": queries.runs_calls(user)},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def call_create(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    if not queries.runs_calls(user):
        raise PermissionDenied
    regions = queries.call_regions_for(user)
    form = CallForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            call = services.create_call(form.to_data(), by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The call is saved as a draft. Open it when ready."))
            return redirect("selection:call_detail", pk=call.pk)
    return render(request, "catalog/selection/call_form.html", {"form": form})


def _render_call(
    request: HttpRequest,
    user: User,
    call: PlatformCall,
    *,
    reviewers_form: ReviewersForm | None = None,
    status: int = 200,
) -> HttpResponse:
    rubric = queries.rubric_of(call)
    context: dict[str, Any] = {
        "call": call,
        "rubric": rubric,
        "max_total": queries.max_total(rubric),
        "applications": list(queries.applications_of(call)),
        "drafts": call.applications.filter(status=PlatformApplication.Status.DRAFT).count(),
        "reviewers_form": reviewers_form
        or ReviewersForm(candidates=queries.eligible_reviewers(call)),
        "S": PlatformCall.Status,
    }
    return render(request, "catalog/selection/call_detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    return _render_call(request, user, queries.get_call_for(user, pk))


@login_required
@require_POST
def call_open(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    call = queries.get_call_for(user, pk)
    try:
        services.open_call(call, by=user)
    except DomainError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("The call is open for applications."))
    return redirect("selection:call_detail", pk=call.pk)


@login_required
@require_POST
def call_start_review(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    call = queries.get_call_for(user, pk)
    try:
        services.start_review(call, by=user)
    except DomainError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("The review has started. Assign the reviewers."))
    return redirect("selection:call_detail", pk=call.pk)


@login_required
@require_POST
def call_assign_reviewers(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    call = queries.get_call_for(user, pk)
    form = ReviewersForm(request.POST, candidates=queries.eligible_reviewers(call))
    if form.is_valid():
        try:
            services.assign_reviewers(call, reviewers=list(form.cleaned_data["reviewers"]), by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The reviewers are assigned to every application."))
            return redirect("selection:call_detail", pk=call.pk)
    return _render_call(request, user, call, reviewers_form=form, status=422)


@never_cache
@login_required
@require_POST
def call_publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Publishes the results; the new credentials' secrets appear on this response only."""
    user = _officer(request)
    call = queries.get_call_for(user, pk)
    try:
        results = services.publish_results(call, by=user)
    except DomainError as exc:
        _report(request, exc)
        return redirect("selection:call_detail", pk=call.pk)
    return render(request, "catalog/selection/published.html", {"results": results})


# --- Officer: applications --------------------------------------------------------------------


def _render_application(
    request: HttpRequest,
    user: User,
    application: PlatformApplication,
    *,
    decide_form: DecideForm | None = None,
    reviewers_form: ReviewersForm | None = None,
    status: int = 200,
) -> HttpResponse:
    call = application.call
    rubric = queries.rubric_of(call)
    done, needed = queries.review_progress(application)
    context: dict[str, Any] = {
        "application": application,
        "call": call,
        "rubric": rubric,
        "max_total": queries.max_total(rubric),
        "documents": queries.documents_of(application),
        "occupations": list(application.offered_occupations.all()),
        "reviews": queries.visible_reviews(user, application),
        "reviews_done": done,
        "reviews_needed": needed,
        "decide_form": decide_form or DecideForm(),
        "reviewers_form": reviewers_form
        or ReviewersForm(candidates=queries.eligible_reviewers(call)),
        "can_decide": application.status
        in {
            PlatformApplication.Status.UNDER_REVIEW,
            PlatformApplication.Status.SELECTED,
            PlatformApplication.Status.NOT_SELECTED,
        }
        and call.status in {PlatformCall.Status.REVIEWING, PlatformCall.Status.DECIDED},
    }
    return render(request, "catalog/selection/application_detail.html", context, status=status)


@never_cache
@login_required
@require_GET
def application_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    return _render_application(request, user, queries.get_application_for_officer(user, pk))


@login_required
@require_POST
def application_assign_reviewers(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    application = queries.get_application_for_officer(user, pk)
    form = ReviewersForm(request.POST, candidates=queries.eligible_reviewers(application.call))
    if form.is_valid():
        try:
            for reviewer in form.cleaned_data["reviewers"]:
                services.assign_reviewer(application, reviewer=reviewer, by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The reviewers are assigned."))
            return redirect("selection:application_detail", pk=application.pk)
    return _render_application(request, user, application, reviewers_form=form, status=422)


@login_required
@require_POST
def application_decide(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    application = queries.get_application_for_officer(user, pk)
    form = DecideForm(request.POST)
    if form.is_valid():
        try:
            services.decide(
                application,
                outcome=form.cleaned_data["outcome"],
                note=form.cleaned_data["note"],
                by=user,
            )
        except DomainError as exc:
            if not _on_form(request, form, exc):
                return redirect("selection:application_detail", pk=application.pk)
        else:
            messages.success(request, _("The decision is recorded."))
            return redirect("selection:call_detail", pk=application.call_id)
    return _render_application(request, user, application, decide_form=form, status=422)


# --- Officer: listed platforms ----------------------------------------------------------------


@never_cache
@login_required
@require_GET
def listed_platforms(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    page = Paginator(queries.platforms_for_officer(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "catalog/selection/listed_platforms.html", {"page": page})


def _render_platform(
    request: HttpRequest,
    platform: Platform,
    *,
    forms: dict[str, ReasonForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = forms or {}
    context = {
        "platform": platform,
        "listings": queries.listings_of(platform),
        "suspend_form": forms.get("suspend", ReasonForm(prefix="suspend")),
        "reinstate_form": forms.get("reinstate", ReasonForm(prefix="reinstate")),
        "remove_form": forms.get("remove", ReasonForm(prefix="remove")),
        "P": Platform.Status,
    }
    return render(request, "catalog/selection/platform_manage.html", context, status=status)


@never_cache
@login_required
@require_GET
def platform_manage(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    return _render_platform(request, queries.get_platform_for_officer(user, pk))


_LISTING_ACTIONS = {
    "suspend": (services.suspend_platform, gettext_lazy("The platform is suspended.")),
    "reinstate": (services.reinstate_platform, gettext_lazy("The platform is reinstated.")),
    "remove": (services.remove_platform, gettext_lazy("The platform is removed from the list.")),
}


@login_required
@require_POST
def platform_change(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _officer(request)
    platform = queries.get_platform_for_officer(user, pk)
    if action not in _LISTING_ACTIONS:
        raise Http404
    service, done = _LISTING_ACTIONS[action]
    form = ReasonForm(request.POST, prefix=action)
    if form.is_valid():
        try:
            service(platform, reason=form.cleaned_data["reason"], by=user)
        except DomainError as exc:
            if not _on_form(request, form, exc):
                return redirect("selection:platform_manage", pk=platform.pk)
        else:
            messages.success(request, str(done))
            return redirect("selection:platform_manage", pk=platform.pk)
    return _render_platform(request, platform, forms={action: form}, status=422)


# --- Reviewers --------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def my_reviews(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    page = Paginator(queries.reviews_for(user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/selection/my_reviews.html", {"page": page})


def _render_review(
    request: HttpRequest,
    user: User,
    review: Review,
    *,
    score_form: ScoreForm | None = None,
    conflict_form: ConflictForm | None = None,
    status: int = 200,
) -> HttpResponse:
    application = review.application
    rubric = queries.rubric_of(application.call)
    context: dict[str, Any] = {
        "review": review,
        "application": application,
        "call": application.call,
        "rubric": rubric,
        "max_total": queries.max_total(rubric),
        "documents": [] if review.conflict_declared else queries.documents_of(application),
        "occupations": list(application.offered_occupations.all()),
        "reviews": queries.visible_reviews(user, application),
        "is_open": review.submitted_at is None
        and not review.conflict_declared
        and application.status == PlatformApplication.Status.UNDER_REVIEW,
        "score_form": score_form or ScoreForm(rubric=rubric),
        "conflict_form": conflict_form or ConflictForm(),
    }
    return render(request, "catalog/selection/review.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    review = queries.get_review_for(user, pk)
    if request.method == "GET":
        return _render_review(request, user, review)
    form = ScoreForm(request.POST, rubric=queries.rubric_of(review.application.call))
    if form.is_valid():
        try:
            services.score(
                review, scores=form.scores(), comment=form.cleaned_data["comment"], by=user
            )
        except DomainError as exc:
            if not _on_form(request, form, exc):
                return redirect("selection:review", pk=review.pk)
        else:
            messages.success(request, _("Your scores are submitted."))
            return redirect("selection:review", pk=review.pk)
    return _render_review(request, user, review, score_form=form, status=422)


@login_required
@require_POST
def review_conflict(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    review = queries.get_review_for(user, pk)
    form = ConflictForm(request.POST)
    if form.is_valid():
        try:
            services.declare_conflict(review, note=form.cleaned_data["conflict_note"], by=user)
        except DomainError as exc:
            if not _on_form(request, form, exc):
                return redirect("selection:review", pk=review.pk)
        else:
            messages.success(request, _("Your conflict of interest is recorded."))
            return redirect("selection:review", pk=review.pk)
    return _render_review(request, user, review, conflict_form=form, status=422)


# --- Platform operators -----------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def open_calls(request: HttpRequest) -> HttpResponse:
    user = _operator(request)
    return render(
        request,
        "catalog/selection/open_calls.html",
        {"calls": list(queries.open_calls_for(user))},
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _operator(request)
    call = queries.get_open_call_for(user, pk)
    organisations = queries.operator_organisations(user)
    form = ApplicationForm(request.POST or None, organisations=organisations)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.create_application(
                call, organisation=form.cleaned_data["organisation"], data=form.to_data(), by=user
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The draft is saved. Add your documents, then submit it."))
            return redirect("selection:my_application", pk=application.pk)
    status = 422 if form.is_bound else 200
    return render(
        request, "catalog/selection/apply.html", {"call": call, "form": form}, status=status
    )


@never_cache
@login_required
@require_GET
def my_applications(request: HttpRequest) -> HttpResponse:
    user = _operator(request)
    page = Paginator(queries.applications_for_operator(user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "catalog/selection/my_applications.html", {"page": page})


def _render_my_application(
    request: HttpRequest,
    application: PlatformApplication,
    *,
    form: ApplicationForm | None = None,
    document_form: DocumentForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "application": application,
        "call": application.call,
        "is_draft": application.status == PlatformApplication.Status.DRAFT,
        "form": form or ApplicationForm(initial=ApplicationForm.initial_from(application)),
        "document_form": document_form or DocumentForm(),
        "documents": queries.documents_of(application),
        "occupations": list(application.offered_occupations.all()),
    }
    return render(request, "catalog/selection/my_application.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def my_application(request: HttpRequest, pk: int) -> HttpResponse:
    user = _operator(request)
    application = queries.get_application_for_operator(user, pk)
    if request.method == "GET":
        return _render_my_application(request, application)
    form = ApplicationForm(request.POST)
    if form.is_valid():
        try:
            services.update_application(application, data=form.to_data(), by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The draft is saved."))
            return redirect("selection:my_application", pk=application.pk)
    return _render_my_application(request, application, form=form, status=422)


@login_required
@require_POST
def my_application_upload(request: HttpRequest, pk: int) -> HttpResponse:
    user = _operator(request)
    application = queries.get_application_for_operator(user, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.add_document(
                application, form.cleaned_data["file"], kind=form.cleaned_data["kind"], by=user
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The document is attached."))
            return redirect("selection:my_application", pk=application.pk)
    return _render_my_application(request, application, document_form=form, status=422)


@login_required
@require_POST
def my_application_remove_document(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    user = _operator(request)
    application = queries.get_application_for_operator(user, pk)
    document = queries.get_document_of(application, document_pk)
    try:
        services.remove_document(document, by=user)
    except DomainError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("The document is removed."))
    return redirect("selection:my_application", pk=application.pk)


@login_required
@require_POST
def my_application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _operator(request)
    application = queries.get_application_for_operator(user, pk)
    try:
        services.submit_application(application, by=user)
    except DomainError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Your application is submitted."))
    return redirect("selection:my_application", pk=application.pk)


@login_required
@require_POST
def my_application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    user = _operator(request)
    application = queries.get_application_for_operator(user, pk)
    try:
        services.withdraw_application(application, by=user)
    except DomainError as exc:
        _report(request, exc)
    else:
        messages.success(request, _("Your application is withdrawn."))
    return redirect("selection:my_application", pk=application.pk)


@never_cache
@login_required
@require_GET
def my_platform(request: HttpRequest) -> HttpResponse:
    user = _operator(request)
    return render(
        request, "catalog/selection/my_platform.html", {"platforms": queries.my_platforms(user)}
    )


# --- Documents --------------------------------------------------------------------------------


@never_cache
@login_required
@require_GET
def document_download(request: HttpRequest, pk: int) -> FileResponse:
    upload = queries.get_document_for(signed_in_user(request), pk)
    response = FileResponse(
        upload.file.open("rb"),
        as_attachment=True,
        filename=upload.original_name,
        content_type=upload.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Public -----------------------------------------------------------------------------------


@require_GET
def public_platforms(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "catalog/selection/public_platforms.html",
        {"platforms": queries.public_platforms()},
    )
