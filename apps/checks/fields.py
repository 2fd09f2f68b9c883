"""The model field an article names its check set with, checked against the registered sets."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from .sets import check_set_choices, default_check_set_key, get_set


def validate_check_set(value: str) -> None:
    if get_set(value) is None:
        raise ValidationError(
            "No check set is registered as %(value)s.", code="unknown_check_set", params={"value": value}
        )


class CheckSetField(models.CharField):
    """A registered check set's key; forms offer the registered sets, by the article each was written for.

    Migrations see a plain CharField: registering a set needs none.
    """

    default_validators = [validate_check_set]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("default", default_check_set_key)
        kwargs.setdefault("verbose_name", "check set")
        kwargs.setdefault(
            "help_text",
            "What the article's checks ask the merchant and which checks its steps may carry.",
        )
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.ChoiceField,
            "choices": check_set_choices,  # read when the form is built
            "required": True,
            "label": "Check set",
            "help_text": self.help_text,
            "initial": default_check_set_key,
        }
        defaults.update(kwargs)
        return defaults.pop("form_class")(**defaults)
