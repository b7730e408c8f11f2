"""Published process models for the apps that may not import the workflow app.

Insight checks an event log's conformance against the process an item runs, but sits beside the
workflow app, not above it (tests/architecture/test_layers.py). The workflow app provides the
models here when it starts; a caller gets only what the provider lets its actor read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessModel:
    key: str
    name: str
    version: int
    department: str


@dataclass(frozen=True)
class _Provider:
    listing: Callable  # (actor) -> list[ProcessModel]
    xml: Callable  # (actor, key) -> bytes; raises NotFound / NotPermitted


_provider: _Provider | None = None


def provide(*, listing: Callable, xml: Callable) -> None:
    global _provider
    _provider = _Provider(listing, xml)


def published(actor) -> list[ProcessModel]:
    """The published models the actor may read, by name; none when no provider is installed."""
    return _provider.listing(actor) if _provider else []


def xml_of(actor, key: str) -> bytes:
    from .errors import NotFound

    if _provider is None:
        raise NotFound()
    return _provider.xml(actor, key)
