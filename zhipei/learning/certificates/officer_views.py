"""Officer pages for completion certificates: the list of certificates of learners in the
officer's region subtree (labour and finance officers), one certificate's particulars, and
revocation by a labour officer (reason, then a confirmation step; the revoke_certificate
service checks the role and scope and writes the audit event). Outside the scope a
certificate is a 404; a user without an officer role gets 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from zhipei.accounts.models import Role, User
from zhipei.accounts.queries import signed_in_user
from zhipei.accounts.scope import officer_prefixes
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.views import raise_for_scope_errors
from zhipei.learning.certificates import queries, services
from zhipei.learning.certificates.forms import CertificateFilterForm, RevokeForm
from zhipei.learning.certificates.numbers import mask_name
from zhipei.learning.models import CompletionCertificate

PAGE_SIZE = 50
_LABOUR = frozenset({Role.LABOUR_OFFICER})


def _officer(request: HttpRequest) -> User:
    user = signed_in_user(request)
    if not officer_prefixes(user):
        raise PermissionDenied
    return user


def _may_revoke(user: User) -> bool:
    return bool(officer_prefixes(user, roles=_LABOUR))


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def certificate_list(request: HttpRequest) -> HttpResponse:
    user = _officer(request)
    form = CertificateFilterForm(request.GET or None, platforms=queries.platforms_for_officer(user))
    where = queries.CertificateFilter()
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
        where = queries.CertificateFilter(
            number=data.get("number") or "",
            course=data.get("course") or "",
            platform=data.get("platform"),
            status=data.get("status") or "",
            issued_from=data.get("issued_from"),
            issued_to=data.get("issued_to"),
        )
    rows = queries.certificates_for_officer(user, where)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rows_shown = [(c, mask_name(c.person.name)) for c in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "learning/certificates/officer_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows_shown,
            "query_string": query.urlencode(),
        },
        status=422 if form.is_bound and form.errors else 200,
    )


def _detail_context(user: User, certificate: CompletionCertificate) -> dict[str, Any]:
    return {
        "certificate": certificate,
        "holder": mask_name(certificate.person.name),
        "verify_url": queries.verify_url(certificate),
        "valid": certificate.status == CompletionCertificate.Status.VALID,
        "may_revoke": _may_revoke(user),
    }


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def certificate_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _officer(request)
    certificate = queries.get_certificate_for_officer(user, pk)
    return render(
        request, "learning/certificates/officer_detail.html", _detail_context(user, certificate)
    )


@never_cache
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def certificate_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1 (GET, or POST without `confirm`): the reason. Step 2 (POST with
    `confirm=yes` and the same reason): revoke."""
    user = _officer(request)
    certificate = queries.get_certificate_for_officer(user, pk)
    if not _may_revoke(user):
        raise PermissionDenied
    if certificate.status != CompletionCertificate.Status.VALID:
        messages.info(request, _("This certificate is already revoked."))
        return redirect("certificates:detail", pk=certificate.pk)
    context = _detail_context(user, certificate)
    if request.method != "POST":
        form = RevokeForm()
        return render(request, "learning/certificates/revoke.html", context | {"form": form})
    form = RevokeForm(request.POST)
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        if request.POST.get("confirm") != "yes":
            return render(
                request,
                "learning/certificates/revoke.html",
                context | {"form": form, "confirming": True, "reason": reason},
            )
        try:
            services.revoke_certificate(certificate, reason=reason, by=user)
        except DomainError as exc:
            raise_for_scope_errors(exc)
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Certificate %(number)s is revoked.") % {"number": certificate.number},
            )
            return redirect("certificates:detail", pk=certificate.pk)
    return render(
        request, "learning/certificates/revoke.html", context | {"form": form}, status=422
    )
