"""Writing many rows at once. On PostgreSQL by COPY: Django 5.2 sends a bulk insert there as
one array per column (UNNEST), and psycopg quotes an array of large JSON documents character
by character — about ten times the cost of COPY for the evaluations, audit events and
crediting rows the apps write in bulk. Elsewhere (SQLite) by bulk_create."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models


def insert_rows(objs: Sequence[models.Model]) -> None:
    """bulk_create without reading primary keys back: every concrete field but the key, each
    prepared as a save would (`pre_save`, `get_db_prep_save`)."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    with _copy(model, tuple(f.column for f in fields)) as copy:
        for obj in objs:
            copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])


def copy_text(value: str) -> str:
    """A value for a line of COPY's text format: a backslash starts an escape; tab, newline
    and carriage return end a field or a row."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def copy_lines(model: type[models.Model], columns: Sequence[str], lines: Sequence[str]) -> None:
    """COPY ready-made text lines (each ending in a newline, values escaped by `copy_text`,
    separated by tabs, in `columns` order) into `model`'s table (PostgreSQL only): for hot
    paths where building the lines directly costs a fraction of `insert_rows`' preparation."""
    if lines:
        with _copy(model, columns) as copy:
            copy.write("".join(lines))


@contextmanager
def _copy(model: type[models.Model], columns: Sequence[str]) -> Iterator[Any]:
    """psycopg's Copy into `model`'s table, with Django's error translation (a repeated key is
    an IntegrityError, as from the ORM)."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN") as copy,
    ):
        yield copy
