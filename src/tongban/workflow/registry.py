"""The only code a process definition can run: named functions we ship.

A script or service task names one of these with tb:function. Each receives the step's context
(case data and the engine's view of the case) and returns updates to the case data. Uploaded
definitions cannot add to this registry, so a BPMN file can never carry executable code.
"""

from collections.abc import Callable

Function = Callable[[dict], dict | None]
_REGISTRY: dict[str, tuple[Function, str]] = {}


def register(name: str, description: str = ""):
    def decorator(fn: Function) -> Function:
        if name in _REGISTRY and _REGISTRY[name][0] is not fn:
            raise ValueError(f"function {name} registered twice")
        _REGISTRY[name] = (fn, description)
        return fn

    return decorator


def is_registered(name: str) -> bool:
    return name in _REGISTRY


def get(name: str) -> Function:
    return _REGISTRY[name][0]


def available() -> dict[str, str]:
    return {name: description for name, (_fn, description) in sorted(_REGISTRY.items())}


@register("noop", "Does nothing (a placeholder step).")
def _noop(context: dict) -> None:
    return None


@register("mark_decided", "Records that a decision has been reached (sets data.decided = true).")
def _mark_decided(context: dict) -> dict:
    return {"decided": True}
