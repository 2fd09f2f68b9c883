from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LanguagesConfig(AppConfig):
    """Which language a person reads in: the one they chose, kept for when the address names none.

    Low in the layers (``tests/test_layers.py``) so that everything that speaks to a person
    (pages, e-mails, notifications, tickets) can read it.
    """

    name = "apps.languages"
    label = "languages"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Languages")
