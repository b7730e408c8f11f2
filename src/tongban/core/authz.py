"""The permission protocol every service checks, kept free of any notion of roles.

Services call `require(actor, permission, department)`. An actor is anything with
`can(permission, department)` and `audit_identity()` (the `Actor` protocol): accounts.Actor for
people and systems, SystemActor for scheduled jobs and operators at the CLI. Roles and scopes
live in accounts; a scope is a department object (its tree path), never a bare id.
"""

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import NotAuthenticated, NotPermitted

if TYPE_CHECKING:
    from django.db.models import Q


class Scope(Protocol):
    """Where a scoped permission applies: a department (its materialised path in the tree)."""

    path: str


@runtime_checkable
class Actor(Protocol):
    """Whoever calls a service: a person, a staff member, another system, a scheduled job.

    accounts.actors.Actor (people and API tokens), accounts.actors.AnonymousActor and SystemActor
    below implement it; services type their `actor` parameter with it.
    """

    is_authenticated: bool
    is_system: bool

    def can(self, permission: str, scope: "Scope | None" = None) -> bool: ...

    def scope_q(self, permission: str, path_field: str = "department__path") -> "Q": ...

    def audit_identity(self) -> tuple[int | None, str]: ...


class SystemActor:
    """Scheduled jobs and operator commands: trusted, and named in the journal."""

    is_authenticated = True
    is_system = True

    def __init__(self, label: str = "system"):
        self.label = label

    def can(self, permission: str, scope: Scope | None = None) -> bool:
        return True

    def scope_q(self, permission: str, path_field: str = "department__path"):
        from django.db.models import Q

        return Q()

    def audit_identity(self) -> tuple[int | None, str]:
        return None, self.label


SYSTEM = SystemActor("system")
OPERATOR = SystemActor("operator:cli")


def actor_identity(actor) -> tuple[int | None, str]:
    """(id, label) an actor is recorded under, in the journal and on events."""
    if actor is None:
        return None, "system"
    if hasattr(actor, "audit_identity"):
        return actor.audit_identity()
    if getattr(actor, "is_authenticated", False):
        return actor.pk, actor.get_username()
    return None, "anonymous"


def require(actor: Actor | None, permission: str, scope: Scope | None = None) -> None:
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise NotAuthenticated()
    if not actor.can(permission, scope):
        raise NotPermitted()


def actor_for_request(request):
    """The caller of a web request. Resolved through a setting so the kernel need not import accounts."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.TONGBAN_ACTOR_RESOLVER)(request)
