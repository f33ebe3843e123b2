"""Forms of the account pages. They check shape only; the services decide (and their domain
errors come back as field errors through `add_domain_error`)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PasswordLoginForm(forms.Form):
    username = forms.CharField(
        label=_("Login name or mobile number"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    password = forms.CharField(
        label=_("Password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class CodeLoginForm(forms.Form):
    """The phone tab: one form, two buttons. "Send me a code" posts it to the request view
    (which reads only the phone), "Log in" to the verify view (the service checks the code)."""

    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=20,
        widget=forms.TextInput(
            attrs={"autocomplete": "tel", "inputmode": "tel", "placeholder": "13800000000"}
        ),
    )
    code = forms.CharField(
        label=_("Code from the text message"),
        max_length=12,
        required=False,
        help_text=_("6 digits. Ask for a code first."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Current password"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password = forms.CharField(
        label=_("New password"),
        max_length=4096,
        strip=False,
        help_text=_(
            "At least 10 characters, not only digits, not a common password and not like "
            "your login name."
        ),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    new_password_again = forms.CharField(
        label=_("New password again"),
        max_length=4096,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def __init__(self, *args: object, needs_old_password: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not needs_old_password:
            del self.fields["old_password"]

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        new, again = cleaned.get("new_password"), cleaned.get("new_password_again")
        if new and again and new != again:
            self.add_error("new_password_again", _("The two new passwords do not match."))
        return cleaned
