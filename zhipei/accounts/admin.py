"""Operator tooling for users and their roles (system administrators with staff status only).

Every save goes through accounts.services: adding a user is create_user, editing is
update_user, a new role row is grant_role, ticking "delete" on a role row is revoke_role
(the row stays, revoked), and the password page is set_password. Users are never deleted;
they are deactivated. Forms run the services' checks in `clean` so problems show as field
errors instead of failing on save.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.db.models import Model, QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from zhipei.accounts import queries, services
from zhipei.accounts.models import RoleAssignment, User
from zhipei.accounts.queries import signed_in_user
from zhipei.core.admin import is_operator
from zhipei.core.errors import DomainError

if TYPE_CHECKING:
    _PasswordFormBase = AdminPasswordChangeForm[User]
else:
    _PasswordFormBase = AdminPasswordChangeForm

# The operator acting in the current request, for forms the admin builds without it.
_acting_operator: ContextVar[User | None] = ContextVar("zhipei_acting_operator", default=None)


@contextmanager
def _acting(user: User) -> Iterator[None]:
    token = _acting_operator.set(user)
    try:
        yield
    finally:
        _acting_operator.reset(token)


def _add_errors(form: forms.BaseForm, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error.message))


class UserAddForm(ModelForm[User]):
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty for an account that logs in with text message codes only."),
    )

    class Meta:
        model = User
        fields = ("username", "display_name", "phone")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.errors:
            return cleaned
        try:
            services.check_new_user(
                username=cleaned.get("username") or "",
                password=cleaned.get("password") or None,
                phone=cleaned.get("phone") or None,
                display_name=cleaned.get("display_name") or "",
            )
        except DomainError as error:
            _add_errors(self, error)
        return cleaned

    def validate_unique(self) -> None:
        # check_new_user decides uniqueness (case-insensitively, across username and phone).
        return


class UserEditForm(ModelForm[User]):
    class Meta:
        model = User
        fields = ("display_name", "phone", "is_active", "is_staff")

    def clean_phone(self) -> str | None:
        phone = (self.cleaned_data.get("phone") or "").strip()
        if not phone:
            return None
        try:
            phone = services.clean_mobile(phone)
        except DomainError as error:
            raise forms.ValidationError(str(error.message)) from None
        if queries.username_or_phone_taken(phone, exclude_pk=self.instance.pk):
            raise forms.ValidationError(_("Another account already uses this mobile number."))
        return phone

    def validate_unique(self) -> None:
        return


class OperatorPasswordForm(_PasswordFormBase):
    """Sets a password through services.set_password (audited); no "disable" option."""

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(user, *args, **kwargs)
        self.fields.pop("usable_password", None)

    def save(self, commit: bool = True) -> User:
        user: User = self.user
        return services.set_password(
            user, password=self.cleaned_data["password1"], by=_acting_operator.get()
        )


class RoleAssignmentForm(ModelForm[RoleAssignment]):
    class Meta:
        model = RoleAssignment
        fields = ("role", "region", "organisation")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            # Existing rows are history: they can be revoked (the delete box), not edited.
            for field in self.fields.values():
                field.disabled = True

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.instance.pk is not None or self.errors or not cleaned.get("role"):
            return cleaned
        try:
            services.validate_role_target(
                cleaned["role"],
                region=cleaned.get("region"),
                organisation=cleaned.get("organisation"),
            )
        except DomainError as error:
            _add_errors(self, error)
        return cleaned


class RoleAssignmentFormSet(BaseInlineFormSet[RoleAssignment, User, ModelForm[RoleAssignment]]):
    def clean(self) -> None:
        super().clean()
        seen: set[tuple[Any, ...]] = set()
        for form in self.forms:
            if form.instance.pk is not None or not form.has_changed() or form.errors:
                continue
            if self.can_delete and self._should_delete_form(form):
                continue
            data = form.cleaned_data
            key = (data.get("role"), data.get("region"), data.get("organisation"))
            held = (
                self.instance.pk is not None
                and RoleAssignment.objects.filter(
                    user=self.instance,
                    role=key[0],
                    region=key[1],
                    organisation=key[2],
                    revoked_at__isnull=True,
                ).exists()
            )
            if held or key in seen:
                form.add_error("role", _("The user already holds this role here."))
            seen.add(key)


class RoleAssignmentInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    fk_name = "user"
    form = RoleAssignmentForm
    formset = RoleAssignmentFormSet
    extra = 1
    raw_id_fields = ("region", "organisation")
    fields = ("role", "region", "organisation", "granted_by", "granted_at", "revoked_at")
    readonly_fields = ("granted_by", "granted_at", "revoked_at")
    verbose_name = _("role")
    verbose_name_plural = _("roles (tick 'delete' to revoke; revoked rows stay for the record)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RoleAssignment]:
        return super().get_queryset(request).select_related("region", "organisation", "granted_by")

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    add_form_template = None
    add_form = UserAddForm
    form = UserEditForm
    change_password_form = OperatorPasswordForm
    inlines = (RoleAssignmentInline,)
    list_display = ("username", "display_name", "phone", "is_active", "is_staff", "last_login")
    list_filter = ("is_active", "is_staff", "role_assignments__role")
    search_fields = ("username", "display_name", "phone")
    ordering = ("username",)
    readonly_fields = ("username", "person", "last_login", "date_joined", "password")
    fieldsets = (
        (None, {"fields": ("username", "password", "display_name", "phone", "person")}),
        (_("Status"), {"fields": ("is_active", "is_staff", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"fields": ("username", "display_name", "phone", "password")}),)
    filter_horizontal = ()
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_operator(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return is_operator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # deactivate instead: users are referenced by audit and history

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        operator = signed_in_user(request)
        data = form.cleaned_data
        if not change:
            created = services.create_user(
                username=data["username"],
                password=data.get("password") or None,
                phone=data.get("phone") or None,
                display_name=data.get("display_name") or "",
                by=operator,
            )
            # The admin goes on with `obj` (inlines, redirects): make it the created row.
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()
            return
        target = User.objects.get(pk=obj.pk)
        services.update_user(
            target,
            display_name=data.get("display_name") or "",
            phone=data.get("phone") or None,
            is_active=bool(data.get("is_active")),
            is_staff=bool(data.get("is_staff")),
            by=operator,
        )
        self._keep_own_session(request, target)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not RoleAssignment:
            super().save_formset(request, form, formset, change)
            return
        operator = signed_in_user(request)
        user = User.objects.get(pk=form.instance.pk)
        granted: list[RoleAssignment] = []
        revoked: list[RoleAssignment] = []
        for inline_form in formset.forms:
            instance = inline_form.instance
            deleting = formset._should_delete_form(inline_form)
            if instance.pk is not None:
                if deleting and instance.revoked_at is None:
                    revoked.append(services.revoke_role(instance, by=operator))
                continue
            if not inline_form.has_changed() or deleting:
                continue
            data = inline_form.cleaned_data
            granted.append(
                services.grant_role(
                    user,
                    role=data["role"],
                    region=data.get("region"),
                    organisation=data.get("organisation"),
                    by=operator,
                )
            )
        # What the admin's change message ("Added role …") reads.
        formset.new_objects, formset.changed_objects = granted, []
        formset.deleted_objects = revoked
        self._keep_own_session(request, user)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with _acting(signed_in_user(request)):
            return super().user_change_password(request, id, form_url)

    @staticmethod
    def _keep_own_session(request: HttpRequest, target: User) -> None:
        # A change to the operator's own privileges ends their sessions; keep this one, with
        # a new session key.
        operator = signed_in_user(request)
        if target.pk == operator.pk:
            operator.refresh_from_db(fields=["privilege_version", "password"])
            update_session_auth_hash(request, operator)
