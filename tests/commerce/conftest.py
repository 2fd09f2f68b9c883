import psycopg
import pytest
from django.db import connection


@pytest.fixture
def other_process_holding_sync_lock():
    """Take a plugin's sync lock from another database session, as a sync running elsewhere would."""
    from apps.commerce.locks import SYNC_LOCK_CLASS
    from tests.conftest import postgresql_required

    postgresql_required("the sync lock is a PostgreSQL advisory lock (set DATABASE_URL)")

    sessions = []

    def hold(plugin_id: int) -> psycopg.Connection:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        session = psycopg.connect(**params, autocommit=True)
        session.execute("SELECT pg_advisory_lock(%s, %s)", [SYNC_LOCK_CLASS, plugin_id])
        sessions.append(session)
        return session

    yield hold
    for session in sessions:
        session.close()  # ending the session releases its locks
