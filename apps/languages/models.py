"""A person's chosen language."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class LanguagePreference(models.Model):
    """The language a user picked in the language switcher; their pages open in it wherever they sign in."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # One of settings.LANGUAGES, checked where it is saved (services) rather than with choices=,
    # so a language added later needs no migration.
    language = models.CharField(max_length=12)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.user}: {self.language}"
