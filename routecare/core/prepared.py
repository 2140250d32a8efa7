"""Statements compiled once and sent many times: the ORM's own SQL for the busiest requests,
without building it again on every request.

An audited lookup or an encounter write sends a handful of short statements; building them
with the ORM (``QuerySet.filter`` → ``Query`` → compiler → SQL text) cost more than sending
them (``bench.floor``, docs/benchmarks.md "The floor"). Two mechanisms take that cost away and
keep everything else the ORM does:

- ``Prepared`` — a query written as an ordinary queryset, built and compiled once per database
  connection's vendor with *marker* values in place of the request's values; each run binds the
  request's values where the markers were, sends the cached SQL through Django's cursor (query
  logging, ``CaptureQueriesContext`` and execute wrappers see it), and turns the rows into model
  instances with the same converters the ORM applies (encrypted fields are decrypted as usual).
  A test compares the cached SQL and its bound values with what the ORM builds for the same
  values, so the two cannot drift.
- ``insert`` / ``insert_many`` — ``Model.save()`` of a new object (``insert``, with its
  ``pre_save``/``post_save`` signals, so sync's outbox and every receiver see it) and
  ``bulk_create`` (``insert_many``, no signals, as Django's) with the INSERT text kept per model
  and row count; the values go through each field's ``pre_save`` and ``get_db_prep_save`` as
  the ORM sends them. An object whose values include an expression (a database default left
  unset, ``F()``) is handed to the ORM unchanged.

Only plain single-table work is prepared: a queryset with ``select_related`` or a model with
parents is refused when it is first compiled, not silently half-loaded.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.query import ModelIterable, ValuesListIterable
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=models.Model)
R = TypeVar("R")
Converter = Callable[[Any, Any, BaseDatabaseWrapper], Any]


class NotPreparableError(ValueError):
    """A query or model this module does not prepare (said when it is first compiled)."""


# The namespace of the stand-ins for a prepared query's values (``Prepared``).
_MARKERS = uuid.UUID("5d0c3c1e-52c6-4b8e-9d0a-707265706172")


def _marker(name: str, kind: type) -> object:
    """A stand-in of the value's type, one per name, never found in real data."""
    if kind is uuid.UUID:
        return uuid.uuid5(_MARKERS, name)
    if kind is str:
        return f"\x00{name}\x00"
    raise NotPreparableError(f"values of type {kind.__name__} are not prepared")


def _marker_bindings(marker: object, value: object) -> Callable[[Any], Any] | None:
    """How a request value becomes the bound parameter, judged from how the ORM bound the
    marker: as it is, or (UUIDs on SQLite) as 32 hex digits."""
    if value == marker and type(value) is type(marker):
        return _as_is
    if isinstance(marker, uuid.UUID) and value == marker.hex:
        return _uuid_hex
    return None


def _as_is(value: Any) -> Any:
    return value


def _uuid_hex(value: Any) -> Any:
    return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex


@dataclass(frozen=True)
class _CompiledQuery:
    sql: str
    params: tuple[Any, ...]
    # (position in params, name of the value, how it is bound)
    slots: tuple[tuple[int, str, Callable[[Any], Any]], ...]
    model: type[models.Model] | None
    init_list: tuple[str, ...]
    model_columns: tuple[int, int]
    annotations: tuple[tuple[str, int], ...]
    converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]


class Prepared(Generic[R]):
    """A queryset built once per database vendor from ``build(**markers)`` and run with the
    request's values: ``rows(**values)`` gives model instances (or tuples for a
    ``values_list`` queryset), ``first(**values)`` the first or None, ``exists(**values)``
    whether there is a row.

    ``kinds`` names each value and its type (``uuid.UUID`` or ``str``); the query is built
    with a stand-in of that type that cannot occur in real data (a UUID of our own namespace,
    a string with NUL characters), which must reach the SQL parameters unchanged (or, for a
    UUID on SQLite, as its hex digits): the first compilation checks it."""

    def __init__(self, build: Callable[..., models.QuerySet[Any, R]], **kinds: type) -> None:
        self._build = build
        self._markers = {name: _marker(name, kind) for name, kind in kinds.items()}
        self._compiled: dict[tuple[str, str], _CompiledQuery] = {}
        self._model: type[models.Model] | None = None
        self._lock = threading.Lock()

    def sql(self, **values: object) -> tuple[str, list[Any]]:
        """The statement and parameters a run with these values sends (tests compare them
        with the ORM's)."""
        compiled, _connection = self._compiled_for()
        return compiled.sql, self._bind(compiled, values)

    def rows(self, **values: object) -> list[R]:
        compiled, connection = self._compiled_for()
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, self._bind(compiled, values))
            fetched = cursor.fetchall()
        return [self._load(compiled, connection, row) for row in fetched]

    def first(self, **values: object) -> R | None:
        found = self.rows(**values)
        return found[0] if found else None

    def exists(self, **values: object) -> bool:
        return bool(self.rows(**values))

    def _bind(self, compiled: _CompiledQuery, values: dict[str, object]) -> list[Any]:
        if values.keys() != self._markers.keys():
            raise TypeError(f"expected the values {sorted(self._markers)}, got {sorted(values)}")
        params = list(compiled.params)
        for position, name, bind in compiled.slots:
            params[position] = bind(values[name])
        return params

    def _compiled_for(self) -> tuple[_CompiledQuery, BaseDatabaseWrapper]:
        if self._model is None:
            self._model = self._build(**self._markers).model
        alias = router.db_for_read(self._model)
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            with self._lock:
                queryset = self._build(**self._markers)
                compiled = self._compiled[key] = self._compile(queryset, alias)
        return compiled, connection

    def _compile(self, queryset: models.QuerySet[Any, R], alias: str) -> _CompiledQuery:
        compiler = queryset.query.get_compiler(using=alias)
        sql, params = compiler.as_sql()
        slots: list[tuple[int, str, Callable[[Any], Any]]] = []
        for name, marker in self._markers.items():
            found = [
                (position, bind)
                for position, value in enumerate(params)
                if (bind := _marker_bindings(marker, value)) is not None
            ]
            if not found:
                raise NotPreparableError(
                    f"the value {name!r} does not reach the SQL parameters as is"
                )
            slots.extend((position, name, bind) for position, bind in found)
        select = compiler.select
        klass_info = compiler.klass_info
        model: type[models.Model] | None = None
        init_list: tuple[str, ...] = ()
        start = end = 0
        iterable = queryset._iterable_class  # how the ORM turns rows into results
        if iterable is ValuesListIterable:
            # Rows as tuples: the select has the values in the order they were named.
            klass_info = None
        elif iterable is not ModelIterable:
            raise NotPreparableError(f"{iterable.__name__} results are not prepared")
        if klass_info is not None:
            if klass_info.get("related_klass_infos"):
                raise NotPreparableError("select_related is not prepared")
            model = klass_info["model"]
            fields = klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            init_list = tuple(column[0].target.attname for column in select[start:end])
        converters = compiler.get_converters([column[0] for column in select])
        return _CompiledQuery(
            sql=sql,
            params=tuple(params),
            slots=tuple(slots),
            model=model,
            init_list=init_list,
            model_columns=(start, end),
            annotations=tuple(compiler.annotation_col_map.items()),
            converters=tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in converters.items()
            ),
        )

    @staticmethod
    def _load(compiled: _CompiledQuery, connection: BaseDatabaseWrapper, row: Sequence[Any]) -> Any:
        values = list(row)
        for position, functions, expression in compiled.converters:
            value = values[position]
            for convert in functions:
                value = convert(value, expression, connection)
            values[position] = value
        if compiled.model is None:
            return tuple(values)
        start, end = compiled.model_columns
        instance = compiled.model.from_db(
            connection.alias, list(compiled.init_list), values[start:end]
        )
        for name, position in compiled.annotations:
            setattr(instance, name, values[position])
        return instance


# -- inserts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledInsert:
    sql: str
    fields: tuple[models.Field[Any, Any], ...]
    returning: tuple[models.Field[Any, Any], ...]
    returning_params: tuple[Any, ...]
    returning_converters: tuple[tuple[int, tuple[Converter, ...], Any], ...]
    # PostgreSQL sends several rows as one array per column (``INSERT … SELECT * FROM
    # UNNEST(…)``), other databases row after row.
    by_column: bool


_inserts: dict[tuple[str, str, type[models.Model], int, bool], _CompiledInsert] = {}
_inserts_lock = threading.Lock()


_fields: dict[tuple[type[models.Model], bool], tuple[models.Field[Any, Any], ...]] = {}


def _insert_fields(model: type[models.Model], pk_set: bool) -> tuple[models.Field[Any, Any], ...]:
    """The columns an INSERT of the model sends, as ``Model.save()`` and ``bulk_create``."""
    found = _fields.get((model, pk_set))
    if found is None:
        meta = model._meta
        found = _fields[(model, pk_set)] = tuple(
            field
            for field in meta.local_concrete_fields
            if not field.generated and (pk_set or field is not meta.auto_field)
        )
    return found


def _plain(instance: models.Model, fields: Sequence[models.Field[Any, Any]]) -> bool:
    """No value is an expression (a database default left unset, ``F()``, ``Value()``)."""
    return not any(
        hasattr(getattr(instance, field.attname), "resolve_expression") for field in fields
    )


def _compiled_insert(
    model: type[models.Model], alias: str, rows: int, pk_set: bool, sample: Sequence[models.Model]
) -> _CompiledInsert:
    connection = connections[alias]
    key = (alias, connection.vendor, model, rows, pk_set)
    compiled = _inserts.get(key)
    if compiled is not None:
        return compiled
    meta = model._meta
    if meta.parents:
        raise NotPreparableError(f"{meta.label} has parents")
    fields = list(_insert_fields(model, pk_set))
    # Only what the database gives: the auto primary key when it is not set (database
    # defaults are not returned: a prepared insert sends every value itself).
    returning = [] if pk_set else [meta.auto_field] if meta.auto_field is not None else []
    if returning and not connection.features.can_return_columns_from_insert:
        raise NotPreparableError("the database cannot return the ids it gives")
    if returning and rows > 1 and not connection.features.can_return_rows_from_bulk_insert:
        raise NotPreparableError("the database cannot return the ids of a multi-row insert")
    with _inserts_lock:
        query = InsertQuery(model)
        # raw: the sample's values as they are (its fields' pre_save already ran).
        query.insert_values(fields, list(sample), raw=True)
        compiler = query.get_compiler(using=alias)
        compiler.returning_fields = returning
        statements = compiler.as_sql()
        if len(statements) != 1:
            raise NotPreparableError("the database sends a multi-row insert as several statements")
        [(sql, sample_params)] = statements
        if len(sample_params) == len(fields) * rows:
            by_column = False
        elif rows > 1 and len(sample_params) == len(fields):
            by_column = True
        else:
            raise NotPreparableError("the insert's parameters are laid out in an unknown way")
        converters = compiler.get_converters([field.get_col(meta.db_table) for field in returning])
        compiled = _inserts[key] = _CompiledInsert(
            sql=sql,
            fields=tuple(fields),
            returning=tuple(returning),
            returning_params=tuple(getattr(compiler, "returning_params", ())),
            returning_converters=tuple(
                (position, tuple(functions), expression)
                for position, (functions, expression) in converters.items()
            ),
            by_column=by_column,
        )
    return compiled


def _values(
    fields: Sequence[models.Field[Any, Any]],
    instance: models.Model,
    connection: BaseDatabaseWrapper,
) -> list[Any]:
    """The row's parameters as the ORM's insert binds them (each field's ``pre_save`` first,
    which fills ``auto_now_add``)."""
    values = []
    for field in fields:
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            # Only a pre_save receiver could put one there after ``_plain`` was asked.
            raise NotPreparableError(f"{field} became an expression on its way to the database")
        values.append(field.get_db_prep_save(value, connection=connection))
    return values


def _set_returned(
    compiled: _CompiledInsert,
    connection: BaseDatabaseWrapper,
    instances: Sequence[models.Model],
    rows: Sequence[Sequence[Any]],
) -> None:
    for instance, row in zip(instances, rows, strict=True):
        values = list(row)
        for position, functions, expression in compiled.returning_converters:
            for convert in functions:
                values[position] = convert(values[position], expression, connection)
        for field, value in zip(compiled.returning, values, strict=True):
            setattr(instance, field.attname, value)


def _send(
    compiled: _CompiledInsert,
    connection: BaseDatabaseWrapper,
    batch: Sequence[models.Model],
    params: list[Any],
) -> None:
    """Send the kept INSERT and set the ids the database gives on the rows' objects."""
    with connection.cursor() as cursor:
        cursor.execute(compiled.sql, params)
        if not compiled.returning:
            return
        if len(batch) == 1:
            returned = [
                _ops(connection).fetch_returned_insert_columns(
                    cursor, list(compiled.returning_params)
                )
            ]
        else:
            returned = _ops(connection).fetch_returned_insert_rows(cursor)
        _set_returned(compiled, connection, batch, returned)


def _check_related(instance: models.Model, operation: str) -> None:
    """Django's refusal to save an object pointing at an unsaved one (its own check)."""
    unchecked: Any = instance
    unchecked._prepare_related_fields_for_save(operation_name=operation)


def _ops(connection: BaseDatabaseWrapper) -> Any:
    """The backend's operations, with the fetch methods of the backends that return ids
    (typed on none of them in django-stubs)."""
    return connection.ops


def _saved(instance: models.Model, alias: str) -> None:
    instance._state.adding = False
    instance._state.db = alias


def insert(instance: M) -> M:
    """``instance.save()`` of a new object with the INSERT kept: the same signals, the same
    values, the instance marked saved."""
    model = type(instance)
    alias = router.db_for_write(model, instance=instance)
    connection = connections[alias]
    meta = model._meta
    pk_set = instance.pk is not None
    fields = _insert_fields(model, pk_set)
    if not _plain(instance, fields):
        instance.save(force_insert=True, using=alias)
        return instance
    _check_related(instance, "save")
    with transaction.mark_for_rollback_on_error(using=alias):
        if not meta.auto_created:
            pre_save.send(
                sender=model, instance=instance, raw=False, using=alias, update_fields=None
            )
        values = _values(fields, instance, connection)
        compiled = _compiled_insert(model, alias, 1, pk_set, [instance])
        _send(compiled, connection, [instance], values)
        _saved(instance, alias)
        if not meta.auto_created:
            post_save.send(
                sender=model,
                instance=instance,
                created=True,
                update_fields=None,
                raw=False,
                using=alias,
            )
    return instance


def insert_many(instances: Iterable[M]) -> list[M]:
    """``bulk_create`` of a few new objects of one model in one statement (no signals, as
    Django's): ids set where the database returns them."""
    batch = list(instances)
    if not batch:
        return batch
    model = type(batch[0])
    alias = router.db_for_write(model)
    connection = connections[alias]
    pk_set = batch[0].pk is not None
    fields = _insert_fields(model, pk_set)
    if any(
        type(one) is not model or (one.pk is not None) != pk_set or not _plain(one, fields)
        for one in batch
    ):
        return model._default_manager.bulk_create(batch)
    for one in batch:
        _check_related(one, "bulk_create")
    rows = [_values(fields, one, connection) for one in batch]
    compiled = _compiled_insert(model, alias, len(batch), pk_set, batch)
    if compiled.by_column:
        params: list[Any] = [list(column) for column in zip(*rows, strict=True)]
    else:
        params = [value for row in rows for value in row]
    with transaction.mark_for_rollback_on_error(using=alias):
        _send(compiled, connection, batch, params)
    for one in batch:
        _saved(one, alias)
    return batch
