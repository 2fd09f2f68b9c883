"""Wagtail's database search, each page stemmed and searched in its own language on PostgreSQL.

Wagtail's PostgreSQL backend takes one text search configuration (``SEARCH_CONFIG``) for every
object and every query: German pages stemmed as English find "Berechtigung" but not
"Berechtigungen". Here each object is indexed with its locale's configuration
(``settings.SEARCH_CONFIGS``), and a query is parsed with the active language's, which the help
center's search sets to the language of the index it searches. On SQLite and any other
database Wagtail's own backend is used unchanged: its full-text search has no per-language
stemming to choose, and the demo keeps working with nothing set up.
"""

from __future__ import annotations

import copy
import functools
from collections import defaultdict

from django.conf import settings
from django.db import connection
from django.utils import translation
from wagtail.search.backends.database import SearchBackend as DatabaseSearchBackend


def search_config_for(language_code: str | None, default: str | None) -> str | None:
    """The text search configuration of a language (``SEARCH_CONFIGS``), else the backend's own."""
    configs = getattr(settings, "SEARCH_CONFIGS", {})
    return configs.get((language_code or "").split("-")[0], default)


def SearchBackend(params):  # noqa: N802 (Wagtail imports a backend module's SearchBackend)
    if connection.vendor != "postgresql":
        return DatabaseSearchBackend(params)
    return _language_backend_class()(params)


@functools.cache
def _language_backend_class():
    # Imported here: the PostgreSQL modules need psycopg, which a SQLite-only install may not have.
    from wagtail.models import Locale
    from wagtail.search.backends.database.postgres.postgres import (
        PostgresIndex,
        PostgresSearchBackend,
        PostgresSearchQueryCompiler,
    )

    class LanguageIndex(PostgresIndex):
        def add_items(self, model, objs):
            """Index each language's objects with its configuration (Wagtail's indexer reads the backend's)."""
            objs = list(objs)
            locale_ids = {getattr(obj, "locale_id", None) for obj in objs} - {None}
            languages = dict(Locale.objects.filter(pk__in=locale_ids).values_list("pk", "language_code"))
            by_config = defaultdict(list)
            for obj in objs:
                language = languages.get(getattr(obj, "locale_id", None))
                by_config[search_config_for(language, self.backend.config)].append(obj)
            for config, group in by_config.items():
                backend = copy.copy(self.backend)
                backend.config = config
                PostgresIndex(backend).add_items(model, group)

    class LanguageQueryCompiler(PostgresSearchQueryCompiler):
        def get_config(self, backend):
            return search_config_for(translation.get_language(), backend.config)

    class LanguagePostgresSearchBackend(PostgresSearchBackend):
        index_class = LanguageIndex
        query_compiler_class = LanguageQueryCompiler

    return LanguagePostgresSearchBackend
