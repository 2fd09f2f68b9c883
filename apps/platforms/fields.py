"""The model field that stores a platform's key, checked against the registry rather than ``choices=``.

A field with ``choices=`` copies the list of platforms into every migration,
so adding a platform would mean a migration in each app that stores one.
``PlatformField`` keeps the list where it lives (``registry.PROVIDERS``): a
value is validated against the table when a form or ``full_clean()`` runs,
forms (and so the admin) offer a select of the registered platforms, and
``get_<name>_display()`` gives the platform's label, as a choices field
would. Its migrations state only a CharField, so a new provider module and
its registry line need none.
"""

from __future__ import annotations

from functools import partialmethod

from django import forms
from django.contrib.admin.filters import ChoicesFieldListFilter, FieldListFilter
from django.core.exceptions import ValidationError
from django.db import models

from apps.platforms import registry


def validate_platform(value: str) -> None:
    """Raise ValidationError unless ``value`` is a registered platform's key."""
    try:
        registry.provider(value)
    except registry.UnknownPlatform as error:
        raise ValidationError(str(error), code="unknown_platform", params={"value": value}) from None


class PlatformField(models.CharField):
    """A registered platform's key; behaves like a choices field whose choices are the registry's."""

    default_validators = [validate_platform]  # not deconstructed: migrations never name the platforms

    def __init__(self, *args, **kwargs):
        if kwargs.get("choices") is not None:
            raise TypeError("PlatformField takes its choices from apps.platforms.registry, not choices=.")
        kwargs.setdefault("max_length", 30)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        # Migrations see a plain CharField: no custom field class to import, nothing that changes with the table.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    @property
    def flatchoices(self):
        """(key, label) of every registered platform: what the admin's list and filter show."""
        return registry.platform_choices()

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        display = f"get_{self.name}_display"
        if display not in cls.__dict__:
            setattr(cls, display, partialmethod(cls._get_FIELD_display, field=self))

    def formfield(self, **kwargs):
        def choices():
            blank = [] if self.has_default() and not self.blank else [("", "---------")]
            return blank + registry.platform_choices()

        defaults = {
            "form_class": forms.ChoiceField,
            "choices": choices,  # a callable: read when a form is built, so it follows the table
            "required": not self.blank,
            "label": self.verbose_name[:1].upper() + self.verbose_name[1:],
            "help_text": self.help_text,
        }
        if self.has_default():
            defaults["initial"] = self.get_default()
        defaults.update(kwargs)
        form_class = defaults.pop("form_class")
        return form_class(**defaults)


# The admin's filter for a platform field lists the registered platforms by label, as for a choices field.
FieldListFilter.register(
    lambda field: isinstance(field, PlatformField), ChoicesFieldListFilter, take_priority=True
)
