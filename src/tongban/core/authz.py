"""The permission protocol every service checks, kept free of any notion of roles.

Services call `require(actor, permission, department_id)`. An actor is anything with
`can(permission, department_id)` and `audit_identity()`: accounts.Actor for people and systems,
SystemActor for scheduled jobs and operators at the CLI. Roles and scopes live in accounts.
"""

from .errors import NotAuthenticated, NotPermitted


class SystemActor:
    """Scheduled jobs and operator commands: trusted, and named in the journal."""

    is_authenticated = True
    is_system = True

    def __init__(self, label: str = "system"):
        self.label = label

    def can(self, permission: str, department_id: int | None = None) -> bool:
        return True

    def scope_q(self, permission: str, path_field: str = "department__path"):
        from django.db.models import Q

        return Q()

    def audit_identity(self) -> tuple[int | None, str]:
        return None, self.label


SYSTEM = SystemActor("system")
OPERATOR = SystemActor("operator:cli")


def require(actor, permission: str, department_id: int | None = None) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()
    if not actor.can(permission, department_id):
        raise NotPermitted()


def actor_for_request(request):
    """The caller of a web request. Resolved through a setting so the kernel need not import accounts."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.TONGBAN_ACTOR_RESOLVER)(request)
