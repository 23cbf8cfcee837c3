"""The Model registry on SQLAlchemy Core: one row per model version.

An upload adds a version in one transaction: the next version number, the aliases moved
off the versions that held them, the operation that reports it. A pipeline's upload is
idempotent: `source_pipeline_id` is unique, so the version it already added is returned.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Engine, Row, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from customjobs.domain.job import Operation
from customjobs.domain.model import DEFAULT_ALIAS, ModelVersion, NewModelVersion
from customjobs.domain.query import Expr
from customjobs.errors import AlreadyExists, NotFound
from customjobs.store.base import Cursor
from customjobs.store.sql.engine import write_transaction
from customjobs.store.sql.filter_sql import MODELS, filter_clause
from customjobs.store.sql.store import labels_by_id, newest_first, operation_row
from customjobs.store.sql.tables import model_labels, model_versions, operations

_T = model_versions


class SqlModelStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add_version(
        self,
        row_id: int,
        model_id: str,
        new: NewModelVersion,
        operation_for: Callable[[int], Operation | None],
        now_us: int,
    ) -> ModelVersion:
        """Add `new` as the next version of `model_id` (its first when new.joins_existing is
        False) with the operation that reports it (`operation_for(version number)`), in one
        transaction; a pipeline's second upload returns the version its first one added."""
        if new.source_pipeline_id is not None:
            done = self._by_pipeline(new.source_pipeline_id)
            if done is not None:
                return done
        scope = (_T.c.project == new.project, _T.c.location == new.location, _T.c.model_id == model_id)
        try:
            with write_transaction(self.engine) as conn:
                last = conn.execute(select(func.max(_T.c.version_id)).where(*scope)).scalar()
                if new.joins_existing and last is None:
                    raise NotFound(
                        f'The Model "{_name(new.project, new.location, model_id)}" does not exist.'
                    )
                if not new.joins_existing and last is not None:
                    raise AlreadyExists(
                        f'The Model "{_name(new.project, new.location, model_id)}" already exists.'
                    )
                aliases = list(dict.fromkeys(new.aliases))
                if last is None and DEFAULT_ALIAS not in aliases:
                    aliases.insert(0, DEFAULT_ALIAS)  # a model's first version is its default
                self._take_aliases(conn, scope, aliases, now_us)
                version = (last or 0) + 1
                conn.execute(
                    insert(_T).values(
                        id=row_id,
                        project=new.project,
                        location=new.location,
                        model_id=model_id,
                        version_id=version,
                        display_name=new.display_name,
                        is_default=DEFAULT_ALIAS in aliases,
                        aliases_json=json.dumps(aliases),
                        spec_json=new.spec_json,
                        source_pipeline_id=new.source_pipeline_id,
                        create_us=now_us,
                        update_us=now_us,
                    )
                )
                if new.labels:
                    rows = [{"job_id": row_id, "key": k, "value": v} for k, v in new.labels.items()]
                    conn.execute(insert(model_labels), rows)
                operation = operation_for(version)
                if operation is not None:
                    conn.execute(insert(operations).values(**operation_row(operation)))
        except IntegrityError:
            # Two uploads raced for the same version number, or the pipeline's upload won.
            if new.source_pipeline_id is not None:
                done = self._by_pipeline(new.source_pipeline_id)
                if done is not None:
                    return done
            raise
        found = self.get(new.project, new.location, model_id, str(version))
        assert found is not None
        return found

    def _take_aliases(self, conn: Any, scope: tuple[Any, ...], aliases: list[str], now_us: int) -> None:
        """An alias names one version of a model: the new version takes it from the others."""
        for row in conn.execute(select(_T.c.id, _T.c.aliases_json).where(*scope)):
            held = json.loads(row.aliases_json)
            kept = [a for a in held if a not in aliases]
            if kept != held:
                conn.execute(
                    update(_T)
                    .where(_T.c.id == row.id)
                    .values(aliases_json=json.dumps(kept), is_default=DEFAULT_ALIAS in kept, update_us=now_us)
                )

    def _by_pipeline(self, pipeline_id: int) -> ModelVersion | None:
        found = self._select(select(_T).where(_T.c.source_pipeline_id == pipeline_id))
        return found[0] if found else None

    def get(self, project: str, location: str, model_id: str, version: str | None) -> ModelVersion | None:
        """A version by number or alias; without one, the default version."""
        query = select(_T).where(
            _T.c.project == project, _T.c.location == location, _T.c.model_id == model_id
        )
        if version is None:
            found = self._select(query.where(_T.c.is_default.is_(True)))
        elif version.isdigit():
            found = self._select(query.where(_T.c.version_id == int(version)))
        else:
            found = [v for v in self._select(query) if version in v.aliases]
        return found[0] if found else None

    def page_models(
        self, project: str, location: str, where: Expr | None, limit: int, after: Cursor | None
    ) -> list[ModelVersion]:
        """One page of models, newest first, each as its default version."""
        query = select(_T).where(
            _T.c.project == project, _T.c.location == location, _T.c.is_default.is_(True)
        )
        if where is not None:
            query = query.where(filter_clause(where, MODELS))
        return self._select(newest_first(query, _T, limit, after))

    def page_versions(
        self, project: str, location: str, model_id: str, where: Expr | None, limit: int, after: Cursor | None
    ) -> list[ModelVersion]:
        query = select(_T).where(
            _T.c.project == project, _T.c.location == location, _T.c.model_id == model_id
        )
        if where is not None:
            query = query.where(filter_clause(where, MODELS))
        return self._select(newest_first(query, _T, limit, after))

    def delete(
        self, project: str, location: str, model_id: str, version_id: int | None, operation: Operation
    ) -> bool:
        """Delete one version, or (version_id None) the whole model, and record the operation."""
        where = [_T.c.project == project, _T.c.location == location, _T.c.model_id == model_id]
        if version_id is not None:
            where.append(_T.c.version_id == version_id)
        with write_transaction(self.engine) as conn:
            ids = [r.id for r in conn.execute(select(_T.c.id).where(*where))]
            if not ids:
                return False
            conn.execute(delete(model_labels).where(model_labels.c.job_id.in_(ids)))
            conn.execute(delete(_T).where(_T.c.id.in_(ids)))
            conn.execute(insert(operations).values(**operation_row(operation)))
        return True

    def _select(self, query: Any) -> list[ModelVersion]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            labels = labels_by_id(conn, model_labels, rows)
            firsts = self._model_create_us(conn, rows)
        return [_version(r, labels[r.id], firsts[(r.project, r.location, r.model_id)]) for r in rows]

    def _model_create_us(self, conn: Any, rows: Sequence[Row[Any]]) -> dict[tuple[str, str, str], int]:
        """When each model was created: its oldest version's time (the first may be deleted),
        for every model among `rows` in one grouped query."""
        keys = {(r.project, r.location, r.model_id) for r in rows}
        if not keys:
            return {}
        scope = tuple_(_T.c.project, _T.c.location, _T.c.model_id)
        query = (
            select(_T.c.project, _T.c.location, _T.c.model_id, func.min(_T.c.create_us))
            .where(scope.in_(list(keys)))
            .group_by(_T.c.project, _T.c.location, _T.c.model_id)
        )
        return {(p, loc, m): int(first) for p, loc, m, first in conn.execute(query)}


def _name(project: str, location: str, model_id: str) -> str:
    return f"projects/{project}/locations/{location}/models/{model_id}"


def _version(row: Row[Any], labels: dict[str, str], model_create_us: int) -> ModelVersion:
    return ModelVersion(
        id=row.id,
        project=row.project,
        location=row.location,
        model_id=row.model_id,
        version_id=row.version_id,
        display_name=row.display_name,
        aliases=json.loads(row.aliases_json),
        spec_json=row.spec_json,
        create_us=row.create_us,
        update_us=row.update_us,
        model_create_us=model_create_us,
        labels=labels,
        source_pipeline_id=row.source_pipeline_id,
    )
