"""Database sessions, read with one fixed SQL statement.

Every request of a logged-in user loads its session; through the ORM that is half of the fixed cost
of a request. The row, the expiry rule and everything else are Django's own (sessions.backends.db);
only the read is plain SQL.
"""

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from . import sql


class SessionStore(DatabaseSessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        row = (
            sql.one(
                "SELECT session_data FROM django_session WHERE session_key = %s AND expire_date > %s",
                [key, sql.timestamp(timezone.now())],
            )
            if key
            else None
        )
        if row is None:
            self._session_key = None
            return None
        return self.model(session_key=key, session_data=row[0])
