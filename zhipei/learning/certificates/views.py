"""Public verification of completion certificates (no login, phone first, rate-limited per
client IP) and the holder's / officer's PDF download."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from zhipei.accounts.queries import signed_in_user
from zhipei.core.middleware import get_client_ip
from zhipei.learning.certificates import queries, ratelimit
from zhipei.learning.certificates.forms import LookupForm
from zhipei.learning.certificates.numbers import mask_name
from zhipei.learning.certificates.pdf import render_certificate_pdf
from zhipei.learning.models import CompletionCertificate


def _private(response: HttpResponse) -> HttpResponse:
    # The token in the URL is the certificate's key: keep it out of caches, other sites'
    # referrers and indexes ("same-origin", not "no-referrer": that makes the lookup form
    # POST with Origin: null, which CSRF protection refuses).
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


def _limited(request: HttpRequest) -> HttpResponse | None:
    retry_after = ratelimit.hit("verify", get_client_ip(request) or "unknown")
    if retry_after is None:
        return None
    response = render(
        request,
        "learning/certificates/rate_limited.html",
        {"minutes": max(1, (retry_after + 59) // 60)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return _private(response)


def _result(request: HttpRequest, certificate: CompletionCertificate) -> HttpResponse:
    return _private(
        render(
            request,
            "learning/certificates/verify.html",
            {
                "certificate": certificate,
                "holder": mask_name(certificate.person.name),
                "valid": certificate.status == CompletionCertificate.Status.VALID,
            },
        )
    )


@require_http_methods(["GET", "HEAD"])
def verify_completion(request: HttpRequest, token: str) -> HttpResponse:
    """What the QR code opens: the certificate's status and particulars, holder masked."""
    limited = _limited(request)
    if limited is not None:
        return limited
    return _result(request, queries.certificate_by_token(token))


@require_http_methods(["GET", "HEAD", "POST"])
def verify_lookup(request: HttpRequest) -> HttpResponse:
    """Number + full name → the same page as the QR code, when both match. A mismatch never
    says which of the two was wrong."""
    if request.method != "POST":
        form = LookupForm()
    else:
        limited = _limited(request)
        if limited is not None:
            return limited
        form = LookupForm(request.POST)
        if form.is_valid():
            certificate = queries.certificate_by_number_and_name(
                form.cleaned_data["number"], form.cleaned_data["name"]
            )
            if certificate is not None:
                return _result(request, certificate)
            form.add_error(
                None,
                _(
                    "No certificate matches this number and name. Check both as printed on "
                    "the certificate."
                ),
            )
    return _private(render(request, "learning/certificates/lookup.html", {"form": form}))


@login_required
@require_http_methods(["GET", "HEAD"])
def certificate_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The certificate PDF, for its holder or a labour or finance officer over the holder's
    region; 404 for anyone else and for revoked certificates."""
    user = signed_in_user(request)
    certificate = queries.get_certificate_for(user, pk)
    if certificate.status != CompletionCertificate.Status.VALID:
        raise Http404
    pdf = render_certificate_pdf(queries.content_of(certificate))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="certificate-{certificate.number}.pdf"'
    return _private(response)
