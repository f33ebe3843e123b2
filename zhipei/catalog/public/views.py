"""The public catalogue (no login, phone first): R1 coverage figures, courses by occupation
(a tree from the classification with course counts), search and filters, course pages that
link to where a course is taught; and the register of skill standards and teaching materials
(public read, province labour officers edit).

Reads go through zhipei.catalog.queries (C2's search_courses, get_public_course, coverage) and
zhipei.catalog.standards; writes through zhipei.catalog.standards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhipei.accounts.models import Role, User
from zhipei.accounts.services import require_role
from zhipei.catalog import queries, standards
from zhipei.catalog.models import ContentCategory, Course, SkillStandard, TeachingMaterial
from zhipei.catalog.public.forms import (
    CourseSearchForm,
    MaterialForm,
    StandardForm,
    StandardSearchForm,
)
from zhipei.core.errors import DomainError, NotAllowed
from zhipei.core.forms import add_domain_error
from zhipei.occupations import queries as occupation_queries
from zhipei.occupations.models import Occupation
from zhipei.regions.models import Region

PAGE_SIZE = 20


@dataclass(frozen=True)
class Branch:
    """One node of the occupation tree with the number of courses under it."""

    node: Occupation
    courses: int


def branches(courses: QuerySet[Course], node: Occupation | None) -> list[Branch]:
    """The children of `node` (the major groups under None) that have at least one of
    `courses`, with how many distinct courses each has (a course naming two occupations in one
    branch counts once). Two queries: the children, and the (course, occupation code) pairs."""
    children = list(occupation_queries.children(node))
    if not children:
        return []
    pairs = Course.occupations.through.objects.filter(course_id__in=courses.values("pk"))
    if node is not None:
        pairs = pairs.filter(occupation__code__startswith=node.code + "-")
    width = len(children[0].code)  # codes of one level have one length: 1, 4, 7, 10
    per_child: dict[str, set[int]] = {child.code: set() for child in children}
    for course_id, code in pairs.values_list("course_id", "occupation__code"):
        key = code[:width]
        if key in per_child:
            per_child[key].add(course_id)
    return [
        Branch(child, len(per_child[child.code])) for child in children if per_child[child.code]
    ]


@require_http_methods(["GET", "HEAD"])
def home(request: HttpRequest) -> HttpResponse:
    figures = queries.coverage()
    context = {
        "coverage": figures,
        "occupation_percent": min(
            100, round(100 * figures.occupations_covered / figures.occupation_target)
        ),
        "platform_percent": min(
            100, round(100 * figures.platforms_selected / figures.platform_target)
        ),
        "branches": branches(queries.search_courses(), None),
        "search_form": CourseSearchForm(),
        "categories": ContentCategory.choices,
    }
    return render(request, "catalog/public/home.html", context)


@require_http_methods(["GET", "HEAD"])
def course_list(request: HttpRequest) -> HttpResponse:
    form = CourseSearchForm(request.GET)
    filters: dict[str, Any] = {}
    node: Occupation | None = None
    if form.is_valid():
        data = form.cleaned_data
        region: Region | None = data.get("region")
        filters = {
            "text": data.get("q") or "",
            "category": data.get("category") or "",
            "skill_level": data.get("level"),
            "region": region,
            "free": form.free(),
        }
        code = data.get("occupation") or ""
        if code:
            node = occupation_queries.get_node(code)
    unfiltered_by_occupation = queries.search_courses(**filters)
    if node is not None:
        courses = queries.search_courses(occupation_code_prefix=node.code, **filters)
    elif form.is_valid() and form.cleaned_data.get("occupation"):
        courses = unfiltered_by_occupation.none()  # a well-formed code that does not exist
    else:
        courses = unfiltered_by_occupation
    page = Paginator(courses, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    for course in page.object_list:
        course.free_now = _free_on(course, today)
    query = request.GET.copy()
    query.pop("page", None)
    without_occupation = query.copy()
    without_occupation.pop("occupation", None)
    context = {
        "form": form,
        "page": page,
        "node": node,
        "trail": occupation_queries.ancestors(node) if node is not None else [],
        "branches": branches(unfiltered_by_occupation, node),
        "query_string": query.urlencode(),
        "tree_query": without_occupation.urlencode(),
    }
    template = (
        "catalog/public/_partials/course_results.html"
        if getattr(request, "htmx", False) and request.headers.get("HX-Target") == "results"
        else "catalog/public/courses.html"
    )
    return render(request, template, context)


def _free_on(course: Course, day: date) -> bool:
    return (
        course.is_free
        and (course.free_from is None or course.free_from <= day)
        and (course.free_until is None or course.free_until >= day)
    )


def _duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@require_http_methods(["GET", "HEAD"])
def course_detail(request: HttpRequest, pk: int) -> HttpResponse:
    course = queries.get_public_course(pk)
    lessons = list(course.lessons.all())
    for lesson in lessons:
        lesson.duration_text = _duration(lesson.media_duration_seconds)  # type: ignore[attr-defined]
    free_now = _free_on(course, timezone.localdate())
    context = {
        "course": course,
        "lessons": lessons,
        "media_total": _duration(sum(lesson.media_duration_seconds or 0 for lesson in lessons)),
        "categories": [
            ContentCategory(c).label for c in course.categories if c in ContentCategory.values
        ],
        "offline_percent": 100 - course.online_percent,
        "free_now": free_now,
        "sessions": list(course.offline_sessions.all()),
    }
    return render(request, "catalog/public/course.html", context)


# --- Skill standards and teaching materials ----------------------------------------------------


def _may_edit(user: Any) -> bool:
    if not isinstance(user, User) or not user.is_authenticated:
        return False
    try:
        require_role(user, Role.LABOUR_OFFICER, level=Region.Level.PROVINCE)
    except NotAllowed:
        return False
    return True


def _editor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not _may_edit(user):
        raise PermissionDenied
    return user


@require_http_methods(["GET", "HEAD"])
def standard_list(request: HttpRequest) -> HttpResponse:
    form = StandardSearchForm(request.GET)
    text = form.cleaned_data["q"] if form.is_valid() else ""
    context = {
        "form": form,
        "standards": list(standards.search_standards(text)[:200]),
        "materials": list(standards.search_materials(text)[:200]),
        "can_edit": _may_edit(request.user),
    }
    return render(request, "catalog/public/standards.html", context)


def _standard_form_page(
    request: HttpRequest, form: StandardForm, standard: SkillStandard | None
) -> HttpResponse:
    return render(
        request, "catalog/public/standard_form.html", {"form": form, "standard": standard}
    )


@login_required
@require_http_methods(["GET", "POST"])
def standard_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _editor(request)
    standard = standards.get_standard(pk) if pk is not None else None
    if request.method != "POST":
        initial = (
            {
                "occupation": standard.occupation.code,
                "title": standard.title,
                "edition": standard.edition,
                "issued_by": standard.issued_by,
                "url": standard.url,
                "levels": standard.levels,
            }
            if standard is not None
            else None
        )
        form = StandardForm(initial=initial)
        if standard is not None:
            form.fields["occupation"].disabled = True
        return _standard_form_page(request, form, standard)
    data = request.POST.copy()
    if standard is not None:
        data["occupation"] = standard.occupation.code
    form = StandardForm(data)
    if standard is not None:
        form.fields["occupation"].disabled = True
        form.initial["occupation"] = standard.occupation.code
    if form.is_valid():
        values = form.cleaned_data
        try:
            if standard is None:
                standards.create_standard(
                    occupation=values["occupation"],
                    title=values["title"],
                    edition=values["edition"],
                    issued_by=values["issued_by"],
                    url=values["url"],
                    levels=values["levels"],
                    by=user,
                )
            else:
                standards.update_standard(
                    standard,
                    title=values["title"],
                    edition=values["edition"],
                    issued_by=values["issued_by"],
                    url=values["url"],
                    levels=values["levels"],
                    by=user,
                )
        except DomainError as exc:
            if isinstance(exc, NotAllowed):
                raise PermissionDenied from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The skill standard is saved."))
            return redirect("catalogue:standards")
    response = _standard_form_page(request, form, standard)
    response.status_code = 422
    return response


@login_required
@require_http_methods(["GET", "POST"])
def material_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _editor(request)
    material: TeachingMaterial | None = standards.get_material(pk) if pk is not None else None
    if request.method != "POST":
        initial = (
            {
                "title": material.title,
                "occupations": " ".join(o.code for o in material.occupations.all()),
                "publisher": material.publisher,
                "isbn": material.isbn,
                "year": material.year,
                "standard": material.standard_id,
            }
            if material is not None
            else None
        )
        form = MaterialForm(initial=initial)
    else:
        form = MaterialForm(request.POST)
        if form.is_valid():
            values = form.cleaned_data
            arguments = {
                "title": values["title"],
                "occupations": values["occupations"],
                "publisher": values["publisher"],
                "isbn": values["isbn"],
                "year": values["year"],
                "standard": values["standard"],
                "by": user,
            }
            try:
                if material is None:
                    standards.create_material(**arguments)
                else:
                    standards.update_material(material, **arguments)
            except DomainError as exc:
                if isinstance(exc, NotAllowed):
                    raise PermissionDenied from exc
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The teaching material is saved."))
                return redirect("catalogue:standards")
    return render(
        request,
        "catalog/public/material_form.html",
        {"form": form, "material": material},
        status=422 if form.is_bound else 200,
    )
