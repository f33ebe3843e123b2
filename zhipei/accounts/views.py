from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhipei.accounts import queries, services
from zhipei.accounts.forms import (
    CodeLoginForm,
    PasswordChangeForm,
    PasswordLoginForm,
)
from zhipei.accounts.models import User
from zhipei.accounts.phones import mask_phone, normalise_mobile
from zhipei.accounts.queries import signed_in_user
from zhipei.core.errors import DomainError
from zhipei.core.forms import add_domain_error
from zhipei.core.middleware import get_client_ip

_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _raw_next(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if candidate and allowed else ""


def _next_url(request: HttpRequest) -> str:
    return _raw_next(request) or resolve_url(settings.LOGIN_REDIRECT_URL)


def _render_login(
    request: HttpRequest,
    *,
    tab: str,
    password_form: PasswordLoginForm | None = None,
    code_form: CodeLoginForm | None = None,
    notice: str = "",
) -> HttpResponse:
    context = {
        "tab": tab,
        "password_form": password_form or PasswordLoginForm(),
        "code_form": code_form or CodeLoginForm(),
        "notice": notice,
        "next": _raw_next(request),
    }
    return render(request, "accounts/login.html", context)


def _log_in(request: HttpRequest, user: User) -> HttpResponseRedirect:
    # django.contrib.auth.login gives the session a new key (no session fixation).
    auth_login(request, user, backend=_BACKEND)
    return redirect(_next_url(request))


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        tab = "code" if request.GET.get("tab") == "code" else "password"
        return _render_login(request, tab=tab)
    form = PasswordLoginForm(request.POST)
    if form.is_valid():
        try:
            user = services.authenticate_password(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                ip=get_client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _log_in(request, user)
    return _render_login(request, tab="password", password_form=form)


@never_cache
@require_POST
def login_code_request(request: HttpRequest) -> HttpResponse:
    form = CodeLoginForm(request.POST)
    if form.is_valid():
        try:
            services.request_login_code(phone=form.cleaned_data["phone"], ip=get_client_ip(request))
        except DomainError as error:
            add_domain_error(form, error)
        else:
            fresh = CodeLoginForm(initial={"phone": normalise_mobile(form.cleaned_data["phone"])})
            return _render_login(
                request, tab="code", code_form=fresh, notice=services.login_code_sent_message()
            )
    return _render_login(request, tab="code", code_form=form)


@sensitive_post_parameters("code")
@never_cache
@require_POST
def login_code(request: HttpRequest) -> HttpResponse:
    form = CodeLoginForm(request.POST)
    if form.is_valid():
        try:
            user = services.verify_login_code(
                phone=form.cleaned_data["phone"],
                code=form.cleaned_data["code"],
                ip=get_client_ip(request),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            return _log_in(request, user)
    return _render_login(request, tab="code", code_form=form)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_required
@require_GET
def profile(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    person = user.person
    context = {
        "assignments": queries.roles_of(user),
        "masked_phone": mask_phone(user.phone or ""),
        "person": person,
        "person_masked_phone": mask_phone(person.phone) if person is not None else "",
    }
    return render(request, "accounts/profile.html", context)


@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    needs_old = user.has_usable_password()
    if request.method != "POST":
        form = PasswordChangeForm(needs_old_password=needs_old)
    else:
        form = PasswordChangeForm(request.POST, needs_old_password=needs_old)
        if form.is_valid():
            try:
                services.change_password(
                    user,
                    old_password=form.cleaned_data.get("old_password"),
                    new_password=form.cleaned_data["new_password"],
                    ip=get_client_ip(request),
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                # Keeps this session (with a new key); sessions elsewhere end.
                update_session_auth_hash(request, user)
                messages.success(request, _("Your password has been changed."))
                return redirect("accounts:profile")
    context = {"form": form, "needs_old_password": needs_old}
    return render(request, "accounts/password_change.html", context)
