"""The form that makes a token: it only reads what was sent; ``token_create`` decides what may be made."""

from __future__ import annotations

from django import forms

from kitty_troubleshoot.params import int_param

from ..tokens import DEFAULT_EXPIRY_DAYS, SCOPE_WORDS, Scope


class _AnyScopes(forms.MultipleChoiceField):
    """Checkboxes whose values ``scopes_clean`` judges, so an unknown scope reads as it does everywhere."""

    def valid_value(self, value) -> bool:
        return True


class TokenCreateForm(forms.Form):
    name = forms.CharField(required=False)
    scopes = _AnyScopes(
        required=False,
        choices=[(scope.value, SCOPE_WORDS[scope]) for scope in Scope],
        widget=forms.CheckboxSelectMultiple,
    )
    expires_in_days = forms.CharField(required=False, initial=str(DEFAULT_EXPIRY_DAYS))

    def cleaned_expiry(self) -> int | None:
        """The days chosen as a number, or None for what is not one (``token_create`` says what is)."""
        return int_param(self.cleaned_data.get("expires_in_days"))

    def chosen_scopes(self) -> set[str]:
        """The scopes to show ticked: what was sent, else none but read (always on)."""
        return set(self["scopes"].value() or []) if self.is_bound else set()
