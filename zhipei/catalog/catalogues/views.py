"""Pages for courses and the two catalogues.

Platform operators: their platform's courses, the course form, Excel import (template,
upload, preview, import), submit and withdraw. Labour officers: the review queue in their
region subtree (approve / return / reject, htmx in place), and the catalogue pages (entries in
scope, create, edit, suspend, reinstate, remove). Outside one's scope is 404, the wrong role
403. The views parse forms and call services and queries; they never write models.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from zhipei.accounts.models import Role, RoleAssignment, User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import officer_prefixes
from zhipei.catalog import queries
from zhipei.catalog.catalogues import attendance, excel, services
from zhipei.catalog.catalogues.courses import CourseData
from zhipei.catalog.catalogues.forms import (
    AttendanceForm,
    CatalogueSearchForm,
    CourseForm,
    ImportUploadForm,
    InstitutionEntryEditForm,
    InstitutionEntryForm,
    NoteForm,
    ProjectEntryEditForm,
    ProjectEntryForm,
    ReasonForm,
    add_located_errors,
)
from zhipei.catalog.models import (
    Course,
    InstitutionCatalogueEntry,
    OfflineSession,
    ProjectCatalogueEntry,
)
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.views import raise_for_scope_errors
from zhipei.occupations.models import Occupation, Trade
from zhipei.orgs.models import Organisation, Platform
from zhipei.regions.models import Region

PAGE_SIZE = 25
IMPORT_SESSION_KEY = "catalog_course_import"


def _has_role(user: User, role: str) -> bool:
    return RoleAssignment.objects.filter(user=user, role=role, revoked_at__isnull=True).exists()


def _page(request: HttpRequest, queryset: QuerySet[Any]) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


# --- Platform operators -----------------------------------------------------------------------


def _operator_platform(request: HttpRequest) -> Platform:
    """The platform the signed-in operator works for (403 for anyone else)."""
    platform = queries.platforms_operated_by(signed_in_user(request)).order_by("pk").first()
    if platform is None:
        raise PermissionDenied
    return platform


@never_cache
@login_required
def my_courses(request: HttpRequest) -> HttpResponse:
    platform = _operator_platform(request)
    status = request.GET.get("status", "")
    if status not in Course.Status.values:
        status = ""
    page = _page(request, queries.courses_of(platform, status=status))
    context = {
        "platform": platform,
        "page": page,
        "status": status,
        "statuses": Course.Status.choices,
    }
    return render(request, "catalog/courses/mine.html", context)


def _course_form_page(
    request: HttpRequest, platform: Platform, form: CourseForm, course: Course | None
) -> HttpResponse:
    return render(
        request,
        "catalog/courses/course_form.html",
        {"platform": platform, "form": form, "course": course},
    )


def _publish_from_form(
    request: HttpRequest, platform: Platform, form: CourseForm, course: Course | None
) -> HttpResponse:
    data = form.course_data
    assert data is not None
    try:
        saved, created = services.publish_course(platform, data=data, by=signed_in_user(request))
    except services.CourseDataInvalid as exc:
        add_located_errors(form, exc.errors)
    except DomainError as exc:
        raise_for_scope_errors(exc)
        add_domain_error(form, exc)
    else:
        if course is None and not created:
            messages.info(request, _("A course with this id already existed; it is updated."))
        else:
            messages.success(request, _("The course is saved."))
        return redirect("courses:detail", pk=saved.pk)
    return _course_form_page(request, platform, form, course)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def course_create(request: HttpRequest) -> HttpResponse:
    platform = _operator_platform(request)
    if request.method == "POST":
        form = CourseForm(request.POST)
        if form.is_valid():
            return _publish_from_form(request, platform, form, None)
    else:
        form = CourseForm()
    return _course_form_page(request, platform, form, None)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def course_edit(request: HttpRequest, pk: int) -> HttpResponse:
    platform = _operator_platform(request)
    course = queries.get_course_of(platform, pk)
    if request.method == "POST":
        form = CourseForm(request.POST, fixed_external_id=course.external_id)
        if form.is_valid():
            return _publish_from_form(request, platform, form, course)
    else:
        form = CourseForm(
            initial=CourseForm.initial_for(course), fixed_external_id=course.external_id
        )
    return _course_form_page(request, platform, form, course)


def _course_for_viewer(request: HttpRequest, pk: int) -> tuple[Course, bool]:
    """The course for its platform's operator (True) or a labour officer in scope (False)."""
    user = signed_in_user(request)
    platform = queries.platforms_operated_by(user).filter(courses__pk=pk).first()
    if platform is not None:
        return queries.get_course_of(platform, pk), True
    if _has_role(user, Role.LABOUR_OFFICER):
        return queries.get_course_for_officer(user, pk), False
    if queries.platforms_operated_by(user).exists():
        raise Http404  # another platform's course
    raise PermissionDenied


def _review_context(course: Course, *, form: NoteForm | None = None) -> dict[str, Any]:
    return {
        "course": course,
        "note_form": form or NoteForm(),
        "can_decide": course.status == Course.Status.SUBMITTED,
    }


@never_cache
@login_required
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course, is_operator = _course_for_viewer(request, pk)
    context = {
        **_review_context(course),
        "is_operator": is_operator,
        "can_submit": is_operator
        and Course.Status.SUBMITTED in services.COURSE_ALLOWED.get(course.status, set())
        and course.status != Course.Status.APPROVED,
        "can_withdraw": Course.Status.WITHDRAWN
        in services.COURSE_ALLOWED.get(course.status, set()),
    }
    return render(request, "catalog/courses/detail.html", context)


@login_required
@require_POST
def course_submit(request: HttpRequest, pk: int) -> HttpResponse:
    platform = _operator_platform(request)
    course = queries.get_course_of(platform, pk)
    try:
        services.submit_course(course, by=signed_in_user(request))
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The course is submitted for review."))
    return redirect("courses:detail", pk=course.pk)


@login_required
@require_POST
def course_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    course, _is_operator = _course_for_viewer(request, pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.withdraw_course(course, by=signed_in_user(request), note=note)
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The course is withdrawn."))
    return redirect("courses:detail", pk=course.pk)


# --- Excel import -----------------------------------------------------------------------------


@login_required
def import_template(request: HttpRequest) -> HttpResponse:
    _operator_platform(request)
    response = HttpResponse(
        excel.build_template(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="courses-template.xlsx"'
    return response


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def course_import(request: HttpRequest) -> HttpResponse:
    """Upload a workbook: its rows are checked and shown, nothing is saved yet; the checked
    good rows wait in the session under a token until the operator imports them."""
    platform = _operator_platform(request)
    result = None
    token = ""
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            content = form.cleaned_data["file"].read()
            result = excel.read_course_workbook(content, platform=platform)
            token = secrets.token_urlsafe(16)
            request.session[IMPORT_SESSION_KEY] = {
                "token": token,
                "platform": platform.pk,
                "sha256": hashlib.sha256(content).hexdigest(),
                "courses": [data.model_dump(mode="json") for _n, data, _new in result.courses],
            }
    else:
        form = ImportUploadForm()
    context = {"platform": platform, "form": form, "result": result, "token": token}
    return render(request, "catalog/courses/import.html", context)


@login_required
@require_POST
def course_import_commit(request: HttpRequest) -> HttpResponse:
    platform = _operator_platform(request)
    pending = request.session.get(IMPORT_SESSION_KEY)
    if (
        not pending
        or pending.get("token") != request.POST.get("token")
        or pending.get("platform") != platform.pk
    ):
        messages.error(request, _("This import has expired or was already done. Upload again."))
        return redirect("courses:import")
    if request.POST.get("choice") != "import":
        del request.session[IMPORT_SESSION_KEY]
        messages.info(request, _("Nothing was imported."))
        return redirect("courses:import")
    courses = [CourseData.model_validate(item) for item in pending["courses"]]
    try:
        done = excel.import_courses(platform, courses, by=signed_in_user(request))
    except DomainError as exc:
        raise_for_scope_errors(exc)
        messages.error(
            request,
            _("Nothing was imported: %(message)s Upload the file again.")
            % {"message": exc.message},
        )
        return redirect("courses:import")
    del request.session[IMPORT_SESSION_KEY]
    created = sum(1 for _c, was_created in done if was_created)
    messages.success(
        request,
        _("%(created)d courses created, %(updated)d updated or unchanged.")
        % {"created": created, "updated": len(done) - created},
    )
    return redirect("courses:mine")


# --- Review by labour officers ----------------------------------------------------------------


def _reviewer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not _has_role(user, Role.LABOUR_OFFICER):
        raise PermissionDenied
    return user


@never_cache
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _reviewer(request)
    status = request.GET.get("status", Course.Status.SUBMITTED)
    if status not in Course.Status.values:
        status = Course.Status.SUBMITTED
    page = _page(request, queries.review_queue_for(user, status=status))
    context = {"page": page, "status": status, "statuses": Course.Status.choices}
    return render(request, "catalog/courses/review_queue.html", context)


REVIEW_ACTIONS = {
    "approve": services.approve_course,
    "return": services.return_course,
    "reject": services.reject_course,
}


@login_required
@require_POST
def review_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    user = _reviewer(request)
    course = queries.get_course_for_officer(user, pk)
    if action not in REVIEW_ACTIONS:
        raise Http404
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            REVIEW_ACTIONS[action](course, by=user, note=form.cleaned_data["note"])
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            if not request.htmx:  # type: ignore[attr-defined]
                messages.success(request, _("The review is recorded."))
                return redirect("courses:detail", pk=course.pk)
            course = queries.get_course_for_officer(user, pk)
            form = NoteForm()
    context = _review_context(course, form=form)
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "catalog/courses/_partials/review_box.html", context)
    status = 200 if not form.errors else 422
    return render(
        request,
        "catalog/courses/detail.html",
        {**context, "is_operator": False, "can_submit": False, "can_withdraw": False},
        status=status,
    )


# --- Catalogue management ---------------------------------------------------------------------


def _catalogue_officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not queries.can_manage_catalogues(user):
        raise PermissionDenied
    return user


def _regions_for(user: User) -> QuerySet[Region]:
    regions = Region.objects.filter(valid_to_year__isnull=True).order_by("code")
    if _has_role(user, Role.SYSTEM_ADMIN):
        return regions
    prefixes = officer_prefixes(user, roles=frozenset({Role.LABOUR_OFFICER}))
    if not prefixes:
        return regions.none()
    condition = None
    for prefix in prefixes:
        q = regions.filter(scope_prefix__startswith=prefix)
        condition = q if condition is None else condition | q
    assert condition is not None
    return condition


def _occupations(codes: list[str], form: Any, field: str) -> list[Occupation] | None:
    found = {
        o.code: o
        for o in Occupation.objects.filter(code__in=codes, level=Occupation.Level.OCCUPATION)
    }
    unknown = [c for c in codes if c not in found]
    if unknown:
        form.add_error(
            field,
            _("Unknown occupation codes (level-4 occupations only): %(codes)s.")
            % {"codes": ", ".join(unknown)},
        )
        return None
    return [found[c] for c in codes]


@never_cache
@login_required
def institution_list(request: HttpRequest) -> HttpResponse:
    user = _catalogue_officer(request)
    form = CatalogueSearchForm(request.GET)
    entries = InstitutionCatalogueEntry.objects.none()
    if form.is_valid():
        entries = queries.institution_entries_for(
            user, text=form.cleaned_data["q"], status=form.cleaned_data["status"]
        )
    context = {"page": _page(request, entries), "search_form": form}
    return render(request, "catalog/courses/institutions.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def institution_create(request: HttpRequest) -> HttpResponse:
    user = _catalogue_officer(request)
    regions = _regions_for(user)
    form = InstitutionEntryForm(request.POST or None, regions=regions)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        organisation = Organisation.objects.filter(uscc=data["uscc"]).first()
        occupations = _occupations(data["occupation_codes"], form, "occupation_codes")
        if organisation is None:
            form.add_error("uscc", _("No organisation is registered with this credit code."))
        elif occupations is not None:
            try:
                entry = services.create_institution_entry(
                    organisation,
                    region=data["region"],
                    nature=data["nature"],
                    occupations=occupations,
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    address=data["address"],
                    by=user,
                )
            except DomainError as exc:
                raise_for_scope_errors(exc)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The entry is in the catalogue."))
                return redirect("courses:institution_detail", pk=entry.pk)
    context = {"form": form, "title": _("New institution-catalogue entry")}
    return render(request, "catalog/courses/entry_form.html", context)


def _entry_page(
    request: HttpRequest,
    entry: InstitutionCatalogueEntry | ProjectCatalogueEntry,
    edit_form: Any,
    reason_form: ReasonForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    kind = "institution" if isinstance(entry, InstitutionCatalogueEntry) else "project"
    context = {
        "entry": entry,
        "kind": kind,
        "edit_form": edit_form,
        "reason_form": reason_form or ReasonForm(),
        "allowed": services.ENTRY_ALLOWED.get(entry.status, set()),
    }
    return render(request, "catalog/courses/entry_detail.html", context, status=status)


def _institution_edit_initial(entry: InstitutionCatalogueEntry) -> dict[str, Any]:
    return {
        "nature": entry.nature,
        "address": entry.address,
        "occupation_codes": ", ".join(o.code for o in entry.occupations.all()),
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _catalogue_officer(request)
    entry = queries.get_institution_entry_for(user, pk)
    if request.method != "POST":
        form = InstitutionEntryEditForm(initial=_institution_edit_initial(entry))
        return _entry_page(request, entry, form)
    form = InstitutionEntryEditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        occupations = _occupations(data["occupation_codes"], form, "occupation_codes")
        if occupations is not None:
            try:
                services.update_institution_entry(
                    entry,
                    nature=data["nature"],
                    occupations=occupations,
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    address=data["address"],
                    by=user,
                )
            except DomainError as exc:
                raise_for_scope_errors(exc)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The entry is saved."))
                return redirect("courses:institution_detail", pk=entry.pk)
    return _entry_page(request, entry, form, status=422)


ENTRY_ACTIONS: dict[str, dict[str, Any]] = {
    "institution": {
        "suspend": services.suspend_institution_entry,
        "reinstate": services.reinstate_institution_entry,
        "remove": services.remove_institution_entry,
    },
    "project": {
        "suspend": services.suspend_project_entry,
        "reinstate": services.reinstate_project_entry,
        "remove": services.remove_project_entry,
    },
}


def _entry_action(request: HttpRequest, kind: str, pk: int, action: str) -> HttpResponse:
    user = _catalogue_officer(request)
    entry: InstitutionCatalogueEntry | ProjectCatalogueEntry
    if kind == "institution":
        entry = queries.get_institution_entry_for(user, pk)
        edit_form: Any = InstitutionEntryEditForm(initial=_institution_edit_initial(entry))
    else:
        entry = queries.get_project_entry_for(user, pk)
        edit_form = ProjectEntryEditForm(initial=_project_edit_initial(entry))
    move = ENTRY_ACTIONS[kind].get(action)
    if move is None:
        raise Http404
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            move(entry, reason=form.cleaned_data["reason"], by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The entry's status is changed."))
            return redirect(f"courses:{kind}_detail", pk=entry.pk)
    return _entry_page(request, entry, edit_form, form, status=422)


@login_required
@require_POST
def institution_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    return _entry_action(request, "institution", pk, action)


@never_cache
@login_required
def project_list(request: HttpRequest) -> HttpResponse:
    user = _catalogue_officer(request)
    form = CatalogueSearchForm(request.GET)
    entries = ProjectCatalogueEntry.objects.none()
    if form.is_valid():
        entries = queries.project_entries_for(
            user, text=form.cleaned_data["q"], status=form.cleaned_data["status"]
        )
    context = {"page": _page(request, entries), "search_form": form}
    return render(request, "catalog/courses/projects.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_create(request: HttpRequest) -> HttpResponse:
    user = _catalogue_officer(request)
    form = ProjectEntryForm(request.POST or None, regions=_regions_for(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        occupations = _occupations([data["occupation_code"].strip()], form, "occupation_code")
        trade = None
        if occupations and data["trade"]:
            trade = Trade.objects.filter(occupation=occupations[0], name=data["trade"]).first()
            if trade is None:
                form.add_error("trade", _("No trade with this name under the occupation."))
        if occupations and not form.errors:
            try:
                entry = services.create_project_entry(
                    data["region"],
                    occupation=occupations[0],
                    trade=trade,
                    skill_level=data["skill_level"],
                    training_type=data["training_type"],
                    class_hours=data["class_hours"],
                    subsidy_standard_fen=form.subsidy_standard_fen(),
                    valid_from=data["valid_from"],
                    valid_to=data["valid_to"],
                    by=user,
                )
            except DomainError as exc:
                raise_for_scope_errors(exc)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The entry is in the catalogue."))
                return redirect("courses:project_detail", pk=entry.pk)
    context = {"form": form, "title": _("New project-catalogue entry")}
    return render(request, "catalog/courses/entry_form.html", context)


def _project_edit_initial(entry: ProjectCatalogueEntry) -> dict[str, Any]:
    fen = entry.subsidy_standard_fen
    return {
        "training_type": entry.training_type,
        "class_hours": entry.class_hours,
        "subsidy_standard": None if fen is None else fen / 100,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
    }


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _catalogue_officer(request)
    entry = queries.get_project_entry_for(user, pk)
    if request.method != "POST":
        return _entry_page(
            request, entry, ProjectEntryEditForm(initial=_project_edit_initial(entry))
        )
    form = ProjectEntryEditForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_project_entry(
                entry,
                training_type=data["training_type"],
                valid_from=data["valid_from"],
                valid_to=data["valid_to"],
                class_hours=data["class_hours"],
                subsidy_standard_fen=form.subsidy_standard_fen(),
                by=user,
            )
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The entry is saved."))
            return redirect("courses:project_detail", pk=entry.pk)
    return _entry_page(request, entry, form, status=422)


@login_required
@require_POST
def project_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    return _entry_action(request, "project", pk, action)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def session_attendance(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    """Attendance of one offline practical session: the platform's operators record it, labour
    officers in the course's region read it."""
    course, is_operator = _course_for_viewer(request, pk)
    try:
        session = course.offline_sessions.get(pk=session_pk)
    except OfflineSession.DoesNotExist as exc:
        raise Http404 from exc
    form = AttendanceForm()
    if request.method == "POST":
        if not is_operator:
            raise PermissionDenied
        form = AttendanceForm(request.POST)
        if form.is_valid():
            try:
                attendance.record_attendance(
                    session,
                    name=form.cleaned_data["name"],
                    id_number=form.cleaned_data["id_number"],
                    present=form.cleaned_data["present"],
                    by=signed_in_user(request),
                )
            except DomainError as exc:
                raise_for_scope_errors(exc)
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Attendance recorded."))
                return redirect("courses:session_attendance", pk=course.pk, session_pk=session.pk)
    context = {
        "course": course,
        "session": session,
        "is_operator": is_operator,
        "form": form,
        "rows": attendance.attendance_of(session),
    }
    return render(request, "catalog/courses/attendance.html", context)
