"""Apply staged, checked rows to the registry (households, persons and their provenance links).

PostgreSQL: every step is one statement over the staging tables. A *plan* table first classifies each
accepted row (``create`` / ``update`` / ``unchanged``, for the record and, separately, for its link) with
``(registry columns) IS DISTINCT FROM (staged columns)``; the writes then touch exactly the rows the plan
says, so the counts are the writes. New ids come from the tables' sequences in the plan, so links can be
written without reading ids back. Unchanged rows are never written (a re-import of the same files writes
nothing). Link upserts keep ``INSERT ... ON CONFLICT (source_id, external_id) DO UPDATE ... WHERE ... IS
DISTINCT FROM ...`` as the safety net.

SQLite: the same plan computed in Python over dicts loaded once, written with bulk_create / bulk_update in
batches of ``ORM_BATCH``.

The caller owns the transaction (all registry writes of a run in one ``transaction.atomic()``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pgtrigger
from django.db import DatabaseError, models, transaction
from django.utils import timezone

from households.importing.checks import Scope, lookup
from households.importing.stage import HOUSEHOLD_FIELDS, PERSON_FIELDS, TABLES, StagedFile, StagedRow, sql_value
from households.importing.types import FAMILY, PERSON, Counts
from households.models import Household, HouseholdSourceLink, Person, PersonSourceLink, SourceLinkBase

ORM_BATCH = 2000
FAMILY_PLAN = "imp_family_plan"
PERSON_PLAN = "imp_person_plan"
KEYS = "imp_plan_keys"
# Links are compared by a 64-bit hash of their raw row (computed on both sides): comparing the jsonb itself
# would carry ~0.5 kB per row through the joins and spill them to disk at a million rows. A collision
# (p ~ 2^-64 per row) could only leave an old copy of the raw row on a link, never a registry field.
RAW_HASH = "jsonb_hash_extended(raw, 0)"
# Household fields a P3KE row leaves as they are when its cell is blank: a second source may have filled them
# (No KK from DTKS, desil from DTSEN), and a blank must not erase that (nor flip-flop between imports).
KEEP_WHEN_BLANK = frozenset({"no_kk", "desil"})
# Statistics are refreshed mid-run when a run wrote more than this many rows and more than this share of
# what the planner believed the table held.
ANALYZE_MIN_ROWS = 10_000
ANALYZE_GROWTH = 0.2
# A write of at least this many new rows that at least doubles a table builds its secondary indexes afterwards.
BULK_INDEX_MIN_ROWS = 50_000


class ApplyError(RuntimeError):
    """An internal inconsistency (a bug, not bad data): the run's transaction is rolled back."""


@dataclass
class ApplyContext:
    source: str
    snapshot_id: int
    scope: Scope
    now: dt.datetime
    cursor: Any = None  # PostgreSQL only
    history_id: str | None = None  # pghistory context of the run (PostgreSQL)


# ---------------------------------------------------------------------------------------------------------------
# History: set-based pghistory events
#
# Household and Person are tracked by pghistory row triggers (InsertEvent, UpdateEvent). Fired per row, each
# trigger opens two subtransactions (pgtrigger's ignore check, pghistory's context attach) and inserts one
# event: measured here, that doubles the cost of writing 200k persons. The bulk writes below therefore run
# with pgtrigger's ignore setting (transaction-local; no lock, other sessions keep their triggers) and
# write the very same event rows themselves, one INSERT per statement, from the statement's RETURNING:
# label "insert"/"update", the NEW row, NOW() and the run's pghistory context (user, job). An UPDATE here only
# touches rows whose columns differ, which is the trigger's own condition (OLD.* IS DISTINCT FROM NEW.*).

TRACKED_TRIGGERS = tuple(
    f"households.{model}:{trigger}"
    for model in ("Household", "Person")
    for trigger in ("insert_insert", "update_update")
)


def event_model(model: type[models.Model]) -> type[models.Model]:
    from django.apps import apps

    return apps.get_model(model._meta.app_label, f"{model.__name__}Event")


def event_insert(model: type[models.Model], label: str, source: str) -> str:
    """SQL inserting one pghistory event per row of ``source`` (a CTE holding the written rows).

    Takes two parameters: the label and the pghistory context id.
    """
    event = event_model(model)
    tracked = [str(f.column) for f in event._meta.concrete_fields if not f.name.startswith("pgh_")]
    assert label in ("insert", "update")  # the labels of pghistory's InsertEvent / UpdateEvent
    return (
        f"INSERT INTO {event._meta.db_table} (pgh_created_at, pgh_label, pgh_obj_id, pgh_context_id, "  # noqa: S608
        f"{', '.join(_quote(c) for c in tracked)}) "
        f"SELECT NOW(), %s, {source}.id, %s::uuid, {', '.join(f'{source}.{_quote(c)}' for c in tracked)} "
        f"FROM {source}"
    )


def with_events(model: type[models.Model], label: str, write_sql: str) -> str:
    """``write_sql`` (an INSERT or UPDATE whose target is aliased ``t``) plus its history events.

    Parameters: those of ``write_sql``, then the label and the context id.
    """
    return f"WITH written AS ({write_sql} RETURNING t.*) {event_insert(model, label, 'written')}"


def pg_ignore_tracked_triggers(cursor: Any, triggers: Sequence[str] = TRACKED_TRIGGERS) -> str:
    """``pgtrigger.ignore`` for the tracked triggers, set once for the transaction (``set_config(..., true)``);
    returns the previous value for ``pg_end_bulk_writes``.

    pgtrigger's own context manager re-sends the setting before every statement and again when it exits,
    which fails in a transaction being rolled back; a rollback undoes this setting by itself.
    """
    cursor.execute("SELECT current_setting('pgtrigger.ignore', true)")
    previous = cursor.fetchone()[0] or "{}"
    names: list[str] = []
    for model, trigger in pgtrigger.registered(*triggers):
        pgid = trigger.get_pgid(model)
        names += [pgid, f"{model._meta.db_table}:{pgid}"]  # both forms, as pgtrigger.ignore sets them
    cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", ["{" + ",".join(names) + "}"])
    return str(previous)


@dataclass
class BulkWriteSettings:
    """What ``pg_begin_bulk_writes`` changed, for ``pg_end_bulk_writes``."""

    ignored_before: str
    replication_role_before: str | None  # None: the role could not be changed (not allowed)

    @property
    def row_triggers_skipped(self) -> bool:
        return self.replication_role_before is not None


def pg_begin_bulk_writes(cursor: Any, triggers: Sequence[str] = TRACKED_TRIGGERS) -> BulkWriteSettings:
    """Transaction settings for the apply: history triggers ignored, and when the database role may, no row
    triggers at all (``session_replication_role = replica``, as ``pg_restore --disable-triggers`` does).

    Replica mode skips the foreign-key triggers too. Measured on 1 M persons that is ~30 s of the apply: each
    written row otherwise runs one lookup per foreign key, and pghistory's ignored triggers still fire to
    check the ignore list. It is safe here because the apply writes only references it has just checked or
    created set-based (regions checked against the region table, households and persons from the plan, the
    run's own source and snapshot), and writes the history events itself. Setting it needs a superuser or,
    on PostgreSQL 15, ``GRANT SET ON PARAMETER session_replication_role TO <role>``; without that the
    foreign keys are checked row by row, with identical results.
    """
    ignored_before = pg_ignore_tracked_triggers(cursor, triggers)
    cursor.execute("SHOW session_replication_role")
    role_before = str(cursor.fetchone()[0])
    try:
        with transaction.atomic():  # a savepoint: a refused SET must not abort the run's transaction
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return BulkWriteSettings(ignored_before=ignored_before, replication_role_before=None)
    return BulkWriteSettings(ignored_before=ignored_before, replication_role_before=role_before)


def pg_end_bulk_writes(cursor: Any, settings: BulkWriteSettings) -> None:
    """Undo the run's transaction settings when the run is nested in a caller's transaction (which then
    goes on): the triggers fire again, foreign keys are checked at commit again (Django's default)."""
    cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [settings.ignored_before])
    if settings.replication_role_before is not None:
        cursor.execute("SELECT set_config('session_replication_role', %s, true)", [settings.replication_role_before])
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def pg_history_context_id(cursor: Any) -> str | None:
    """The pghistory context of the run (created now if needed); None outside ``history_context``."""
    cursor.execute("SELECT _pgh_attach_context()")
    value = cursor.fetchone()[0]
    return None if value is None else str(value)


def now() -> dt.datetime:
    return timezone.now()


# ---------------------------------------------------------------------------------------------------------------
# Shared helpers


def default_columns(model: type[models.Model], written: Iterable[str], now: dt.datetime) -> list[tuple[str, Any]]:
    """(column, value) for every concrete column an INSERT does not write itself: defaults, timestamps, blanks."""
    skip = set(written)
    out: list[tuple[str, Any]] = []
    for f in model._meta.concrete_fields:
        if f.column in skip or f.attname in skip or f.primary_key:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value: Any = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        elif f.empty_strings_allowed:
            value = ""
        else:  # pragma: no cover - a new required column the engine does not know yet
            raise ApplyError(f"{model._meta.db_table}.{f.column} is required and has no default")
        if isinstance(value, dict | list):
            value = json.dumps(value)
        out.append((str(f.column), value))
    return out


def _quote(name: str) -> str:
    return f'"{name}"'


def _counts(cursor: Any, plan: str, column: str = "action") -> dict[str, int]:
    cursor.execute(f"SELECT {column}, count(*) FROM {plan} GROUP BY {column}")  # noqa: S608
    return {str(action): int(n) for action, n in cursor.fetchall()}


def pg_sequence(cursor: Any, model: type[models.Model]) -> str:
    cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, model._meta.pk.column])
    return str(cursor.fetchone()[0])


def _row_tuple(alias: str, columns: Sequence[str]) -> str:
    return "(" + ", ".join(f"{alias}.{_quote(c)}" for c in columns) + ")"


def _fill(counts: Counts, plan: dict[str, int]) -> None:
    counts.created += plan.get("create", 0)
    counts.updated += plan.get("update", 0)
    counts.unchanged += plan.get("unchanged", 0)


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: families


def household_fields(staged: StagedFile) -> list[str]:
    """Household fields this family file carries (a column missing from an older export is left alone)."""
    return [f for f in HOUSEHOLD_FIELDS if f in staged.present or f == "head_name"]


def person_fields(staged: StagedFile) -> list[str]:
    present = staged.present | {"nik_status", "nik_note"} if "nik" in staged.present else staged.present
    return [f for f in PERSON_FIELDS if f in present or f == "name"]


def pg_apply_families(ctx: ApplyContext, staged: StagedFile, counts: Counts) -> None:
    cursor = ctx.cursor
    fields = household_fields(staged)
    hh, link_table, stage = Household._meta.db_table, HouseholdSourceLink._meta.db_table, TABLES[FAMILY]
    desil = "s.desil" if "desil" in staged.present else "NULL::integer"
    staged_fields = ", ".join(sql_value(FAMILY, f) for f in fields)
    # What an existing household becomes: a blank No KK or desil keeps the value it has (another source's).
    kept_fields = ", ".join(f"coalesce(s.{f}, h.{f})" if f in KEEP_WHEN_BLANK else sql_value(FAMILY, f) for f in fields)
    cursor.execute(f"DROP TABLE IF EXISTS {FAMILY_PLAN}, {KEYS}")
    cursor.execute(
        f"""
        CREATE TEMP TABLE {KEYS} AS
        SELECT s.row_number, l.household_id AS old_id,
               CASE WHEN l.id IS NULL THEN 'create'
                    WHEN (l.snapshot_id, l.row_number, l.is_present, l.desil, l.raw_hash)
                         IS DISTINCT FROM (%s, s.row_number, true, s.desil, s.raw_hash) THEN 'update'
                    ELSE 'unchanged' END AS link_action
        FROM (SELECT row_number, id_keluarga, {desil} AS desil, {RAW_HASH} AS raw_hash
              FROM {stage} s WHERE NOT rejected OFFSET 0) s
        LEFT JOIN (SELECT id, household_id, external_id, snapshot_id, row_number, is_present, desil,
                          {RAW_HASH} AS raw_hash
                   FROM {link_table} WHERE source_id = %s OFFSET 0) l ON l.external_id = s.id_keluarga
        """,  # noqa: S608
        [ctx.snapshot_id, ctx.source],
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE {FAMILY_PLAN} AS
        SELECT k.row_number, k.link_action,
               CASE WHEN k.old_id IS NULL THEN nextval(%s) ELSE k.old_id END AS household_id,
               CASE WHEN k.old_id IS NULL THEN 'create'
                    WHEN {_row_tuple("h", ["desa_id", *fields])} IS DISTINCT FROM
                         (s.region_code, {kept_fields}) THEN 'update'
                    ELSE 'unchanged' END AS action
        FROM {KEYS} k JOIN {stage} s ON s.row_number = k.row_number
        LEFT JOIN {hh} h ON h.id = k.old_id
        """,  # noqa: S608
        [pg_sequence(cursor, Household)],
    )
    cursor.execute(f"DROP TABLE {KEYS}")
    cursor.execute(f"ANALYZE {FAMILY_PLAN}")
    plan = _counts(cursor, FAMILY_PLAN)
    writes = plan.get("create", 0) + plan.get("update", 0)
    deferred = pg_defer_indexes(ctx, [Household, event_model(Household), HouseholdSourceLink], writes)

    # New households. The scoping code columns are derived from the desa code, as Household.save() does.
    written = ["id", "desa_id", "province_code", "kabupaten_code", "kecamatan_code", *fields]
    defaults = default_columns(Household, written, ctx.now)
    insert = f"""
        INSERT INTO {hh} AS t ({", ".join(_quote(c) for c in written + [c for c, _ in defaults])})
        SELECT p.household_id, s.region_code, left(s.region_code, 2), left(s.region_code, 4), left(s.region_code, 6),
               {staged_fields}{"".join(", %s" for _ in defaults)}
        FROM {FAMILY_PLAN} p JOIN {stage} s ON s.row_number = p.row_number
        WHERE p.action = 'create'
    """  # noqa: S608
    cursor.execute(with_events(Household, "insert", insert), [*(v for _, v in defaults), "insert", ctx.history_id])
    # Changed households: only the rows whose columns differ (the plan), so history gets real changes only.
    assignments = ", ".join(
        f"{_quote(f)} = coalesce(s.{f}, t.{f})" if f in KEEP_WHEN_BLANK else f"{_quote(f)} = {sql_value(FAMILY, f)}"
        for f in fields
    )
    update = f"""
        UPDATE {hh} t SET desa_id = s.region_code, province_code = left(s.region_code, 2),
               kabupaten_code = left(s.region_code, 4), kecamatan_code = left(s.region_code, 6),
               {assignments}, updated_at = %s
        FROM {FAMILY_PLAN} p JOIN {stage} s ON s.row_number = p.row_number
        WHERE p.action = 'update' AND t.id = p.household_id
    """  # noqa: S608
    cursor.execute(with_events(Household, "update", update), [ctx.now, "update", ctx.history_id])
    pg_upsert_links(
        ctx,
        model=HouseholdSourceLink,
        owner="household_id",
        select=f"""
            SELECT %s, %s, s.id_keluarga, s.row_number, s.raw, %s, true, %s, p.household_id, {desil}
            FROM {FAMILY_PLAN} p JOIN {stage} s ON s.row_number = p.row_number
            WHERE p.link_action <> 'unchanged'
        """,  # noqa: S608
        extra=["desil"],
    )
    deferred.rebuild(cursor)
    _fill(counts, plan)
    pg_analyze_if_grown(ctx, [Household, HouseholdSourceLink], plan.get("create", 0))


def pg_upsert_links(
    ctx: ApplyContext, *, model: type[SourceLinkBase], owner: str, select: str, extra: Sequence[str] = ()
) -> None:
    """Insert new links, refresh changed ones (snapshot, row, raw, presence), leave identical ones alone."""
    table = model._meta.db_table
    columns = ["source_id", "snapshot_id", "external_id", "row_number", "raw", "first_seen_id", "is_present"]
    columns += ["updated_at", owner, *extra]
    refreshed = ["snapshot_id", "row_number", "raw", "is_present", *extra]
    ctx.cursor.execute(
        f"""
        INSERT INTO {table} AS l ({", ".join(columns)})
        {select}
        ON CONFLICT (source_id, external_id) DO UPDATE
        SET {", ".join(f"{c} = EXCLUDED.{c}" for c in refreshed)}, {owner} = EXCLUDED.{owner},
            updated_at = EXCLUDED.updated_at
        WHERE ({", ".join(f"l.{c}" for c in [*refreshed, owner])})
              IS DISTINCT FROM ({", ".join(f"EXCLUDED.{c}" for c in [*refreshed, owner])})
        """,  # noqa: S608
        [ctx.source, ctx.snapshot_id, ctx.snapshot_id, ctx.now],
    )


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: persons


def pg_apply_persons(ctx: ApplyContext, staged: StagedFile, counts: Counts) -> None:
    cursor = ctx.cursor
    fields = person_fields(staged)
    staged_fields = ", ".join(sql_value(PERSON, f) for f in fields)
    person, stage = Person._meta.db_table, TABLES[PERSON]
    hh_link, link_table = HouseholdSourceLink._meta.db_table, PersonSourceLink._meta.db_table
    cursor.execute(f"DROP TABLE IF EXISTS {PERSON_PLAN}, {KEYS}")
    cursor.execute(
        f"""
        CREATE TEMP TABLE {KEYS} AS
        SELECT s.row_number, hl.household_id, pl.person_id AS old_id,
               CASE WHEN pl.id IS NULL THEN 'create'
                    WHEN (pl.snapshot_id, pl.row_number, pl.is_present, pl.raw_hash)
                         IS DISTINCT FROM (%s, s.row_number, true, s.raw_hash) THEN 'update'
                    ELSE 'unchanged' END AS link_action
        FROM (SELECT row_number, id_keluarga, id_individu, {RAW_HASH} AS raw_hash
              FROM {stage} WHERE NOT rejected OFFSET 0) s
        JOIN {hh_link} hl ON hl.source_id = %s AND hl.external_id = s.id_keluarga
        LEFT JOIN (SELECT id, person_id, external_id, snapshot_id, row_number, is_present, {RAW_HASH} AS raw_hash
                   FROM {link_table} WHERE source_id = %s OFFSET 0) pl ON pl.external_id = s.id_individu
        """,  # noqa: S608
        [ctx.snapshot_id, ctx.source, ctx.source],
    )
    cursor.execute(
        f"""
        CREATE TEMP TABLE {PERSON_PLAN} AS
        SELECT k.row_number, k.household_id, k.link_action,
               CASE WHEN k.old_id IS NULL THEN nextval(%s) ELSE k.old_id END AS person_id,
               CASE WHEN k.old_id IS NULL THEN 'create'
                    WHEN {_row_tuple("p", ["household_id", *fields])} IS DISTINCT FROM
                         (k.household_id, {staged_fields}) THEN 'update'
                    ELSE 'unchanged' END AS action
        FROM {KEYS} k JOIN {stage} s ON s.row_number = k.row_number
        LEFT JOIN {person} p ON p.id = k.old_id
        """,  # noqa: S608
        [pg_sequence(cursor, Person)],
    )
    cursor.execute(f"DROP TABLE {KEYS}")
    cursor.execute(f"SELECT (SELECT count(*) FROM {PERSON_PLAN}), (SELECT count(*) FROM {stage} WHERE NOT rejected)")  # noqa: S608
    planned, accepted = cursor.fetchone()
    if planned != accepted:  # the family checks guarantee every accepted person a household
        raise ApplyError(f"person plan has {planned} rows for {accepted} accepted rows")
    cursor.execute(f"ANALYZE {PERSON_PLAN}")
    plan = _counts(cursor, PERSON_PLAN)
    writes = plan.get("create", 0) + plan.get("update", 0)
    deferred = pg_defer_indexes(ctx, [Person, event_model(Person), PersonSourceLink], writes)

    written = ["id", "household_id", *fields]
    defaults = default_columns(Person, written, ctx.now)
    insert = f"""
        INSERT INTO {person} AS t ({", ".join(_quote(c) for c in written + [c for c, _ in defaults])})
        SELECT p.person_id, p.household_id, {staged_fields}{"".join(", %s" for _ in defaults)}
        FROM {PERSON_PLAN} p JOIN {stage} s ON s.row_number = p.row_number
        WHERE p.action = 'create'
    """  # noqa: S608
    cursor.execute(with_events(Person, "insert", insert), [*(v for _, v in defaults), "insert", ctx.history_id])
    assignments = ", ".join(f"{_quote(f)} = {sql_value(PERSON, f)}" for f in fields)
    update = f"""
        UPDATE {person} t SET household_id = p.household_id, {assignments}, updated_at = %s
        FROM {PERSON_PLAN} p JOIN {stage} s ON s.row_number = p.row_number
        WHERE p.action = 'update' AND t.id = p.person_id
    """  # noqa: S608
    cursor.execute(with_events(Person, "update", update), [ctx.now, "update", ctx.history_id])
    pg_upsert_links(
        ctx,
        model=PersonSourceLink,
        owner="person_id",
        select=f"""
            SELECT %s, %s, s.id_individu, s.row_number, s.raw, %s, true, %s, p.person_id
            FROM {PERSON_PLAN} p JOIN {stage} s ON s.row_number = p.row_number
            WHERE p.link_action <> 'unchanged'
        """,  # noqa: S608
    )
    deferred.rebuild(cursor)
    _fill(counts, plan)
    pg_analyze_if_grown(ctx, [Person, PersonSourceLink], plan.get("create", 0))


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: missing (flagged, never deleted)


def pg_flag_missing(ctx: ApplyContext, *, model: type[SourceLinkBase], stage_table: str, column: str) -> int:
    """Links of this source in the job's region whose id is not in the file -> ``is_present = false``.

    ``stage_table.column`` holds the external ids the file has (rejected rows too: they are in the snapshot).
    Returns how many links of the source in the region the file lacks. The anti-join runs first and alone
    (MATERIALIZED): on a re-import it leaves (almost) nothing for the joins to the region.
    """
    table = model._meta.db_table
    if model is HouseholdSourceLink:
        join = f"JOIN {Household._meta.db_table} h ON h.id = a.household_id"
        owner = "household_id"
    else:
        join = (
            f"JOIN {Person._meta.db_table} p ON p.id = a.person_id "
            f"JOIN {Household._meta.db_table} h ON h.id = p.household_id"
        )
        owner = "person_id"
    ctx.cursor.execute(
        f"""
        WITH absent AS MATERIALIZED (
            SELECT l.id, l.{owner}, l.is_present FROM {table} l
            WHERE l.source_id = %s AND NOT EXISTS (SELECT 1 FROM {stage_table} f WHERE f.{column} = l.external_id)
        ), scoped AS MATERIALIZED (
            SELECT a.id, a.is_present FROM absent a {join} WHERE starts_with(h.desa_id, %s)
        ), flagged AS (
            UPDATE {table} t SET is_present = false, updated_at = %s
            FROM scoped s WHERE t.id = s.id AND s.is_present
        )
        SELECT count(*) FROM scoped
        """,  # noqa: S608
        [ctx.source, ctx.scope.code, ctx.now],
    )
    return int(ctx.cursor.fetchone()[0])


@dataclass
class DeferredIndexes:
    """Secondary indexes dropped for a bulk load and the statements that build them again."""

    definitions: list[str]

    def rebuild(self, cursor: Any) -> None:
        for definition in self.definitions:
            cursor.execute(definition)
        self.definitions = []


def pg_defer_indexes(ctx: ApplyContext, models_: Sequence[type[models.Model]], incoming: int) -> DeferredIndexes:
    """Drop the plain secondary indexes of tables this write will at least double (a region's first load).

    Maintaining an index row by row costs far more than building it once over the loaded rows (measured on
    1 M persons: ~15 s of inserts vs a few seconds of builds, sorted and in parallel). Kept: primary keys,
    unique indexes (ON CONFLICT needs them) and constraint indexes. The drop is part of the run's
    transaction: a rollback restores the indexes, and other sessions wait for the table until the commit,
    which only happens when a load is large against what the table holds. The caller rebuilds the indexes
    (``DeferredIndexes.rebuild``) before the statements that read the tables through them.
    """
    deferred = DeferredIndexes(definitions=[])
    if incoming < BULK_INDEX_MIN_ROWS:
        return deferred
    cursor = ctx.cursor
    for model in models_:
        table = model._meta.db_table
        cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
        if incoming < float(cursor.fetchone()[0]):
            continue
        cursor.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
            ORDER BY c.relname
            """,
            [table],
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            deferred.definitions.append(definition)
    return deferred


def pg_analyze_if_grown(ctx: ApplyContext, models_: Sequence[type[models.Model]], written: int) -> None:
    """Refresh the planner's statistics of tables this run grew a lot, inside the run's transaction.

    The next statements of the run join them: with statistics of an empty table (a first import) the planner
    picks nested loops over what is by now a million rows. ANALYZE counts the rows of its own transaction.
    """
    cursor = ctx.cursor
    for model in models_:
        table = model._meta.db_table
        cursor.execute("SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = %s::regclass", [table])
        known = float(cursor.fetchone()[0])
        if written > ANALYZE_MIN_ROWS and written > ANALYZE_GROWTH * known:
            cursor.execute(f"ANALYZE {table}")


# ---------------------------------------------------------------------------------------------------------------
# SQLite (ORM): the same plan in Python


LINK_UPDATE_FIELDS = ["snapshot", "row_number", "raw", "is_present", "updated_at"]


def orm_links(model: type[SourceLinkBase], source: str, external_ids: Iterable[str]) -> dict[str, Any]:
    """The links of ``source`` with these external ids, by external id (one query per batch)."""
    manager: Any = model._default_manager
    found = lookup(external_ids, lambda batch: manager.filter(source_id=source, external_id__in=batch))
    return {link.external_id: link for link in found}


def orm_upsert_links(
    ctx: ApplyContext,
    model: type[SourceLinkBase],
    owner: str,
    wanted: dict[str, tuple[StagedRow, int, dict[str, Any]]],
) -> None:
    """The ORM twin of ``pg_upsert_links``: new links created, links whose snapshot, row, raw, presence, owner
    or extra fields differ refreshed, identical ones left alone. ``wanted``: external id -> (row, owner id,
    extra fields)."""
    existing = orm_links(model, ctx.source, wanted)
    create, update = [], []
    for external_id, (row, owner_id, extra) in wanted.items():
        link = existing.get(external_id)
        if link is None:
            create.append(
                model(
                    source_id=ctx.source,
                    snapshot_id=ctx.snapshot_id,
                    first_seen_id=ctx.snapshot_id,
                    external_id=external_id,
                    row_number=row.row_number,
                    raw=row.raw,
                    **{owner: owner_id},
                    **extra,
                )
            )
            continue
        current = (link.snapshot_id, link.row_number, link.raw, link.is_present, getattr(link, owner))
        current += tuple(getattr(link, k) for k in extra)
        if current != (ctx.snapshot_id, row.row_number, row.raw, True, owner_id, *extra.values()):
            link.snapshot_id, link.row_number, link.raw, link.is_present = (
                ctx.snapshot_id,
                row.row_number,
                row.raw,
                True,
            )
            setattr(link, owner, owner_id)
            for name, value in extra.items():
                setattr(link, name, value)
            link.updated_at = ctx.now
            update.append(link)
    model._default_manager.bulk_create(create, batch_size=ORM_BATCH)
    fields = [*LINK_UPDATE_FIELDS, owner.removesuffix("_id"), *extra_names(wanted)]
    model._default_manager.bulk_update(update, fields, batch_size=ORM_BATCH)


def extra_names(wanted: dict[str, tuple[StagedRow, int, dict[str, Any]]]) -> list[str]:
    first = next(iter(wanted.values()), None)
    return list(first[2]) if first else []


def orm_apply_families(ctx: ApplyContext, staged: StagedFile, counts: Counts) -> dict[str, int]:
    """Returns ID Keluarga -> household id of every accepted row (for the person file)."""
    fields = household_fields(staged)
    has_desil = "desil" in staged.present
    rows = [row for row in staged.rows if not row.rejected]
    links = orm_links(HouseholdSourceLink, ctx.source, (row.values["id_keluarga"] for row in rows))
    households = Household.objects.in_bulk([link.household_id for link in links.values()])
    created: list[tuple[StagedRow, Household]] = []
    updated: list[Household] = []
    unchanged = 0
    for row in rows:
        v = row.values
        code = v["region_code"]
        link = links.get(v["id_keluarga"])
        if link is None:
            household = Household(desa_id=code, **{f: v[f] for f in fields})
            household.province_code, household.kabupaten_code, household.kecamatan_code = code[:2], code[:4], code[:6]
            created.append((row, household))
            continue
        household = households[link.household_id]
        wanted = [v[f] if v[f] is not None or f not in KEEP_WHEN_BLANK else getattr(household, f) for f in fields]
        if (household.desa_id, *(getattr(household, f) for f in fields)) != (code, *wanted):
            for f, value in zip(fields, wanted, strict=True):
                setattr(household, f, value)
            household.desa_id = code
            household.province_code, household.kabupaten_code, household.kecamatan_code = code[:2], code[:4], code[:6]
            household.updated_at = ctx.now
            updated.append(household)
        else:
            unchanged += 1

    Household.objects.bulk_create([h for _, h in created], batch_size=ORM_BATCH)
    Household.objects.bulk_update(
        updated,
        [*fields, "desa", "province_code", "kabupaten_code", "kecamatan_code", "updated_at"],
        batch_size=ORM_BATCH,
    )
    result = {ext: link.household_id for ext, link in links.items()}
    result.update({row.values["id_keluarga"]: household.pk for row, household in created})
    orm_upsert_links(
        ctx,
        HouseholdSourceLink,
        "household_id",
        {
            row.values["id_keluarga"]: (
                row,
                result[row.values["id_keluarga"]],
                {"desil": row.values.get("desil") if has_desil else None},
            )
            for row in rows
        },
    )
    counts.created += len(created)
    counts.updated += len(updated)
    counts.unchanged += unchanged
    return result


def orm_apply_persons(ctx: ApplyContext, staged: StagedFile, counts: Counts, families: dict[str, int]) -> None:
    fields = person_fields(staged)
    rows = [row for row in staged.rows if not row.rejected]
    missing = {row.values["id_keluarga"] for row in rows} - families.keys()
    families = {
        **families,
        **{ext: link.household_id for ext, link in orm_links(HouseholdSourceLink, ctx.source, missing).items()},
    }
    links = orm_links(PersonSourceLink, ctx.source, (row.values["id_individu"] for row in rows))
    persons = Person.objects.in_bulk([link.person_id for link in links.values()])
    created: list[tuple[StagedRow, Person]] = []
    updated: list[Person] = []
    unchanged = 0
    for row in rows:
        v = row.values
        household_id = families.get(v["id_keluarga"])
        if household_id is None:
            raise ApplyError(f"no household for person row {row.row_number}")
        link = links.get(v["id_individu"])
        if link is None:
            created.append((row, Person(household_id=household_id, **{f: v[f] for f in fields})))
            continue
        person = persons[link.person_id]
        if (person.household_id, *(getattr(person, f) for f in fields)) != (household_id, *(v[f] for f in fields)):
            for f in fields:
                setattr(person, f, v[f])
            person.household_id = household_id
            person.updated_at = ctx.now
            updated.append(person)
        else:
            unchanged += 1

    Person.objects.bulk_create([p for _, p in created], batch_size=ORM_BATCH)
    Person.objects.bulk_update(updated, [*fields, "household", "updated_at"], batch_size=ORM_BATCH)
    person_ids = {ext: link.person_id for ext, link in links.items()}
    person_ids.update({row.values["id_individu"]: person.pk for row, person in created})
    orm_upsert_links(
        ctx,
        PersonSourceLink,
        "person_id",
        {row.values["id_individu"]: (row, person_ids[row.values["id_individu"]], {}) for row in rows},
    )
    counts.created += len(created)
    counts.updated += len(updated)
    counts.unchanged += unchanged


def orm_flag_missing(ctx: ApplyContext, *, model: type[SourceLinkBase], present: set[str]) -> int:
    prefix = "household__" if model is HouseholdSourceLink else "person__household__"
    links = model._default_manager.filter(source_id=ctx.source, **{f"{prefix}desa__code__startswith": ctx.scope.code})
    absent = [
        (pk, flag) for pk, ext, flag in links.values_list("pk", "external_id", "is_present") if ext not in present
    ]
    flagged = [pk for pk, flag in absent if flag]
    for start in range(0, len(flagged), ORM_BATCH):
        model._default_manager.filter(pk__in=flagged[start : start + ORM_BATCH]).update(
            is_present=False, updated_at=ctx.now
        )
    return len(absent)
