"""The OpenAPI document names each schema by its class name alone: two different schemas of
the same name in two apps would make the document describe one of them wrongly (a client and
schemathesis would then read one app's answer against the other app's shape)."""

from __future__ import annotations

from collections import defaultdict

from ninja import Schema

import diemcau.api  # noqa: F401  (imports every app's API and its schemas)


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def _fields(cls: type) -> object:
    return cls.model_json_schema().get("properties")  # type: ignore[attr-defined]


def test_schemas_of_the_same_name_have_the_same_shape() -> None:
    by_name: dict[str, dict[str, type]] = defaultdict(dict)
    for cls in _subclasses(Schema):
        if cls.__module__.startswith("diemcau."):
            by_name[cls.__name__][cls.__module__] = cls
    clashes = {
        name: sorted(classes) for name, classes in by_name.items()
        if len({repr(_fields(c)) for c in classes.values()}) > 1
    }
    assert clashes == {}
    assert len(by_name) > 50  # the walk saw the apps' schemas
