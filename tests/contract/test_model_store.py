"""The Model registry's store on SQLite and PostgreSQL: versions, aliases, idempotent uploads."""

from __future__ import annotations

import pytest

from customjobs import names
from customjobs.domain.job import Operation
from customjobs.domain.model import NewModelVersion
from customjobs.errors import AlreadyExists, NotFound
from customjobs.store.sql.models import SqlModelStore
from customjobs.store.sql.store import SqlStore


def _new(**fields: object) -> NewModelVersion:
    values: dict[str, object] = {
        "project": "p",
        "location": "l",
        "display_name": "m",
        "labels": {"team": "a"},
        "spec_json": '{"displayName": "m"}',
        "aliases": (),
    }
    values.update(fields)
    return NewModelVersion(**values)  # type: ignore[arg-type]


def _op(version: int) -> Operation:
    return Operation.done_now(names.new_id(), "upload_model", "p", "l", "v1", None, version, "{}")


def test_versions_number_from_one_and_the_first_is_default(store: SqlStore) -> None:
    models = SqlModelStore(store.engine)
    first = models.add_version(names.new_id(), "m1", _new(), _op, 1)
    second = models.add_version(
        names.new_id(), "m1", _new(joins_existing=True, aliases=("default", "best")), _op, 2
    )
    third = models.add_version(names.new_id(), "m1", _new(joins_existing=True, aliases=("canary",)), _op, 3)
    assert (first.version_id, second.version_id, third.version_id) == (1, 2, 3)
    assert first.aliases == ["default"]
    # "default" and "best" moved to version 2; version 1 lost "default" to it.
    assert models.get("p", "l", "m1", "1").aliases == []  # type: ignore[union-attr]
    assert models.get("p", "l", "m1", None).version_id == 2  # type: ignore[union-attr]
    assert models.get("p", "l", "m1", "best").version_id == 2  # type: ignore[union-attr]
    assert models.get("p", "l", "m1", "canary").version_id == 3  # type: ignore[union-attr]
    assert models.get("p", "l", "m1", "9") is None
    assert third.model_create_us == 1 and third.labels == {"team": "a"}
    listed = models.page_models("p", "l", None, 10, None)
    assert [(m.model_id, m.version_id) for m in listed] == [("m1", 2)]
    assert [v.version_id for v in models.page_versions("p", "l", "m1", None, 10, None)] == [3, 2, 1]


def test_an_existing_id_or_a_missing_parent_is_refused(store: SqlStore) -> None:
    models = SqlModelStore(store.engine)
    models.add_version(names.new_id(), "taken", _new(), _op, 1)
    with pytest.raises(AlreadyExists):
        models.add_version(names.new_id(), "taken", _new(), _op, 2)
    with pytest.raises(NotFound):
        models.add_version(names.new_id(), "absent", _new(joins_existing=True), _op, 2)
    assert [v.version_id for v in models.page_versions("p", "l", "taken", None, 10, None)] == [1]


def test_a_pipelines_upload_happens_once(store: SqlStore) -> None:
    """A pipeline asked again (a server restarted after uploading) gets its version back."""
    models = SqlModelStore(store.engine)
    once = models.add_version(names.new_id(), "m", _new(source_pipeline_id=42), lambda _: None, 1)
    again = models.add_version(names.new_id(), "other", _new(source_pipeline_id=42), lambda _: None, 2)
    assert (again.model_id, again.version_id, again.id) == (once.model_id, once.version_id, once.id)
    assert len(models.page_models("p", "l", None, 10, None)) == 1


def test_delete_a_version_or_the_whole_model(store: SqlStore) -> None:
    models = SqlModelStore(store.engine)
    models.add_version(names.new_id(), "m", _new(), _op, 1)
    models.add_version(names.new_id(), "m", _new(joins_existing=True), _op, 2)
    op = _op(0)
    assert models.delete("p", "l", "m", 2, op)
    assert store.get_operation(op.id) is not None
    assert [v.version_id for v in models.page_versions("p", "l", "m", None, 10, None)] == [1]
    assert models.delete("p", "l", "m", None, _op(0))
    assert models.get("p", "l", "m", None) is None
    assert not models.delete("p", "l", "m", None, _op(0))
