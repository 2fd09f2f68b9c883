"""Platform credentials, encrypted at rest."""

from __future__ import annotations

import json
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@cache
def _fernet() -> MultiFernet:
    # CREDENTIALS_KEY may list several keys, newest first: old rows still
    # decrypt while new writes use the first key (rotation without downtime).
    keys = [key.strip() for key in settings.CREDENTIALS_KEY.split(",") if key.strip()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "CREDENTIALS_KEY must be Fernet keys (32 url-safe base64-encoded bytes), comma-separated."
        ) from None


def credentials_key_validate() -> None:
    """Raise ImproperlyConfigured unless CREDENTIALS_KEY holds usable keys."""
    _fernet()


def encrypt_json(value: dict) -> str:
    return _fernet().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        # Never echo the token: a wrong key must not leak what it protects.
        raise ImproperlyConfigured(
            "Stored credentials cannot be decrypted with CREDENTIALS_KEY (was the key changed?)."
        ) from None


class EncryptedJSONField(models.TextField):
    """A dict stored as a Fernet token; the database never sees the plain values."""

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return {}
        return decrypt_json(value)

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return decrypt_json(value)

    def get_prep_value(self, value):
        if value in (None, {}, ""):
            return ""
        return encrypt_json(value)

    def value_to_string(self, obj):
        # Fixtures and dumpdata get the ciphertext, never the secrets.
        return self.get_prep_value(self.value_from_object(obj))
