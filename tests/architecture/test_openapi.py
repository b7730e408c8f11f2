"""The OpenAPI document describes every operation with its own schemas (issue 9, defect 10).

Django Ninja files each schema under its class name; two classes with one name (catalog's and
cases' MaterialOut, accounts' and exchange's GrantOut, licences' and cases' IssueIn) were written
over each other, so clients generated from the document read one shape and got the other."""

import types
import typing

from pydantic import BaseModel

from tongban.api import api


def _models_in(annotation, found: set) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _models_in(field.annotation, found)
        return
    for arg in typing.get_args(annotation) or ():
        _models_in(arg, found)
    if isinstance(annotation, types.UnionType):
        for arg in annotation.__args__:
            _models_in(arg, found)


def _operations():
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            yield from path_view.operations


def _schema_classes() -> set:
    found: set = set()
    for operation in _operations():
        for model in operation.models:
            _models_in(model, found)
        for model in operation.response_models.values():
            _models_in(model, found)
    # Ninja's own wrappers (the per-operation input and response models) are not components.
    return {m for m in found if m.__module__.startswith("tongban.")}


def test_every_schema_has_a_name_of_its_own():
    by_name: dict[str, set] = {}
    for model in _schema_classes():
        by_name.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    shared = {name: sorted(owners) for name, owners in by_name.items() if len(owners) > 1}
    assert shared == {}


def test_each_component_is_the_schema_its_class_describes():
    components = api.get_openapi_schema()["components"]["schemas"]
    for model in _schema_classes():
        if model.__name__ not in components:
            continue  # inlined by Ninja (e.g. only used as a query)
        names = set(model.model_fields)  # a response is written by field name,
        aliases = {f.alias or name for name, f in model.model_fields.items()}  # input read by alias
        extra = model.model_config.get("json_schema_extra")
        if not names and isinstance(extra, dict):
            names = aliases = set(extra.get("properties", {}))  # a shape declared by hand (MessageOut)
        assert set(components[model.__name__].get("properties", {})) in (names, aliases), model


def _refs(node, out: list) -> list:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            out.append(node["$ref"])
        for value in node.values():
            _refs(value, out)
    elif isinstance(node, list):
        for value in node:
            _refs(value, out)
    return out


def test_every_reference_in_every_operation_resolves():
    document = api.get_openapi_schema()
    components = document["components"]["schemas"]
    refs = _refs(document["paths"], []) + _refs(components, [])
    assert refs, "the document has no references at all"
    missing = sorted({r for r in refs if r.removeprefix("#/components/schemas/") not in components})
    assert missing == []
    assert all(r.startswith("#/components/schemas/") for r in refs)
