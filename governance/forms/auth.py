"""Forms of the login and two-factor pages. They only parse; the checking is in
``governance.services.auth``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.services.auth import normalize_code, normalize_email

# The id of the message shown above the login form when the e-mail address or
# password is wrong; both inputs point at it with aria-describedby.
LOGIN_ERROR_ID = "login-error"


class _AuthForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Labels read exactly as written ("Password", not "Password:").
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class LoginForm(_AuthForm):
    # Named "username" because django-axes reads that field (AXES_USERNAME_FORM_FIELD).
    username = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "username", "autofocus": True, "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean_username(self) -> str:
        return normalize_email(self.cleaned_data["username"])

    def credentials_refused(self, message: str) -> None:
        """Show one message for an unknown address and a wrong password alike, so the
        page never tells whether an address has an account."""
        self.add_error(None, message)
        for name in ("username", "password"):
            self.fields[name].widget.attrs.update(
                {"aria-describedby": LOGIN_ERROR_ID, "aria-invalid": "true"}
            )


class CodeForm(_AuthForm):
    """A code from the authenticator app, or one of the backup codes."""

    code = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=32,
        help_text=_(
            "Enter the 6-digit code your authenticator app shows now. "
            "If you do not have your phone, enter one of your backup codes instead."
        ),
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "autofocus": True,
            }
        ),
    )

    def clean_code(self) -> str:
        code = normalize_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Enter a code."), code="required")
        return code


class EnrolCodeForm(CodeForm):
    """The first code from a newly added authenticator: digits only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.help_text = _("Enter the 6-digit code the app shows for GovSocial.")
        field.widget.attrs.update({"inputmode": "numeric", "pattern": "[0-9 ]*"})
        field.widget.attrs.pop("autofocus", None)

    def clean_code(self) -> str:
        code = super().clean_code()
        if not code.isdigit():
            raise forms.ValidationError(
                _("Enter the code as digits only, for example 123456."), code="digits"
            )
        return code


class RegenerateBackupCodesForm(CodeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        field.help_text = _(
            "To make new backup codes, enter the code your authenticator app shows now "
            "(or one of your backup codes). Your old backup codes will stop working."
        )
        field.widget.attrs.pop("autofocus", None)
