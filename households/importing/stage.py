"""Staging: parsed rows -> typed staging rows, before any check touches the registry.

PostgreSQL: one TEMP table per file kind (typed columns + ``row_number``, ``rejected``, ``warned`` and the raw
row as jsonb), filled with COPY in batches, plus ``imp_issue`` for every parser issue. TEMP tables live in the
import's own session only, are never WAL-logged and vanish with the session (a killed worker leaves nothing).
SQLite (embedded default): the same rows kept in memory as ``StagedRow`` lists.

Every file row is staged, rejected ones too (``rejected = true``): the checks and the counts then work on
one table, and accepted + rejected == rows read holds by construction.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.db import models
from django.utils.translation import gettext as _

from households import choices
from households.importing.types import DTKS, DTSEN, FAMILY, INTERVENTION, PERSON, CellIssue, ParsedRow, RowIssue
from households.models import Household, Person

BATCH_ROWS = 20_000  # rows per COPY batch; also the progress granularity


class ColumnLike(Protocol):
    """What the engine needs of ``mapping.ColumnMatch``."""

    @property
    def header(self) -> str: ...

    @property
    def field(self) -> str | None: ...


class ParsedFileLike(Protocol):
    """What the engine needs of ``mapping.ParsedFile``."""

    @property
    def header_row(self) -> int: ...

    @property
    def columns(self) -> Sequence[ColumnLike]: ...

    @property
    def unmatched(self) -> Sequence[str]: ...

    @property
    def rows(self) -> Iterator[ParsedRow]: ...


# ---------------------------------------------------------------------------------------------------------------
# Staging columns


@dataclass(frozen=True)
class StageColumn:
    name: str
    sql_type: str  # text, integer, boolean, date, numeric
    max_length: int | None = None  # registry limit: a longer value is cut (with a warning) instead of failing
    blank: bool = False  # registry column is NOT NULL and stores "" for blank


def _model_columns(model: type[models.Model], names: Iterable[str]) -> tuple[StageColumn, ...]:
    columns = []
    for name in names:
        f = model._meta.get_field(name)
        assert isinstance(f, models.Field)
        if isinstance(f, models.BooleanField):
            columns.append(StageColumn(name, "boolean"))
        elif isinstance(f, models.IntegerField):
            columns.append(StageColumn(name, "integer"))
        elif isinstance(f, models.DateField):
            columns.append(StageColumn(name, "date"))
        else:
            max_length = getattr(f, "max_length", None)
            columns.append(StageColumn(name, "text", max_length, blank=not f.null))
    return tuple(columns)


# Household fields a P3KE family row writes (the desa and its code columns come from ``region_code``).
HOUSEHOLD_FIELDS: tuple[str, ...] = (
    "head_name", "no_kk", "address", "dusun", "rt", "rw", "desil", "persentil", "house_ownership", "roof_type",
    "roof_quality", "wall_type", "wall_quality", "floor_type", "floor_quality", "lighting_source", "power_capacity",
    "cooking_fuel", "water_source", "toilet_facility", "stunting_risk", "has_savings", "has_land", "has_vehicle",
    "receives_bpnt", "receives_bpum", "receives_bst", "receives_pkh", "receives_sembako", "receives_prakerja",
    "receives_kur", "verification_priority", "extreme_poverty",
)  # fmt: skip
# Person fields a P3KE person row writes.
PERSON_FIELDS: tuple[str, ...] = (
    "name", "nik", "nik_status", "nik_note", "sex", "relationship", "birth_date", "marital_status", "occupation",
    "work_status", "education", "disability",
)  # fmt: skip
# Person fields of a second source (DTKS/DTSEN) row; used for families it creates and to fill blanks.
SECOND_PERSON_FIELDS: tuple[str, ...] = (
    "name", "nik", "nik_status", "nik_note", "sex", "relationship", "birth_place", "birth_date", "mother_name",
)  # fmt: skip
SECOND_HOUSEHOLD_FIELDS: tuple[str, ...] = ("no_kk", "address", "dusun", "rt", "rw")

FAMILY_COLUMNS: tuple[StageColumn, ...] = (
    StageColumn("id_keluarga", "text", 64),
    StageColumn("region_code", "text"),
    StageColumn("desa_name", "text"),
    *_model_columns(Household, HOUSEHOLD_FIELDS),
)
PERSON_COLUMNS: tuple[StageColumn, ...] = (
    StageColumn("id_keluarga", "text", 64),
    StageColumn("id_individu", "text", 64),
    *_model_columns(Person, PERSON_FIELDS),
)
# DTKS and DTSEN rows share one staging shape: a person with (maybe) a family key and a desa.
SECOND_COLUMNS: tuple[StageColumn, ...] = (
    StageColumn("ext_person", "text", 64),
    StageColumn("ext_family", "text", 64),
    StageColumn("region_code", "text"),
    StageColumn("norm_name", "text"),
    StageColumn("desil", "integer"),
    *_model_columns(Person, SECOND_PERSON_FIELDS),
    *_model_columns(Household, SECOND_HOUSEHOLD_FIELDS),
)
# A program's deliveries (``programs.importing`` resolves the household and applies the delivery rules).
INTERVENTION_COLUMNS: tuple[StageColumn, ...] = (
    StageColumn("id_keluarga", "text", 64),
    StageColumn("nik", "text"),
    StageColumn("delivered_on", "date"),
    StageColumn("value", "numeric"),
    StageColumn("quantity", "numeric"),
    StageColumn("status", "text"),
    StageColumn("note", "text", 500, blank=True),
    StageColumn("skipped", "boolean"),
)
COLUMNS: dict[str, tuple[StageColumn, ...]] = {
    FAMILY: FAMILY_COLUMNS,
    PERSON: PERSON_COLUMNS,
    DTKS: SECOND_COLUMNS,
    DTSEN: SECOND_COLUMNS,
    INTERVENTION: INTERVENTION_COLUMNS,
}
TABLES: dict[str, str] = {
    FAMILY: "imp_family",
    PERSON: "imp_person",
    DTKS: "imp_second",
    DTSEN: "imp_second",
    INTERVENTION: "imp_intervention",
}
ISSUE_TABLE = "imp_issue"


# ---------------------------------------------------------------------------------------------------------------
# From parsed values to staging values


Adapter = Callable[[ParsedRow], dict[str, Any]]


def _p3ke_values(row: ParsedRow) -> dict[str, Any]:
    values = row.values
    if "nik" in values:
        status = values.get("nik_status") or (choices.NikStatus.VALID if values["nik"] else choices.NikStatus.MISSING)
        # Only a structurally valid NIK is stored; the raw value stays in the link's raw row.
        nik = values["nik"] if status == choices.NikStatus.VALID else None
        values = {**values, "nik": nik, "nik_status": status}
    return values


@dataclass
class SecondSourceAdapter:
    """DTKS/DTSEN values -> the shared second-source staging shape.

    ``resolve_desa(values)`` gives the desa code of the row: its region code, or (DTKS exports without a
    code column) the desa found by kecamatan + desa name within the job's region.
    """

    kind: str
    resolve_desa: Callable[[dict[str, Any]], str | None]

    def __call__(self, row: ParsedRow) -> dict[str, Any]:
        from households.importing.linkage import normalize_name

        v = _p3ke_values(row)  # same NIK rule: only a valid NIK is kept
        nik = v.get("nik")
        no_kk = v.get("no_kk")
        if self.kind == DTKS:
            ext_person = v.get("id_dtks")
            ext_family = no_kk  # DTKS families are known by their No KK
        else:
            ext_family = v.get("id_dtsen_keluarga")
            ext_person = v.get("id_dtsen_individu") or _derived_person_id(ext_family, nik, v)
        name = v.get("name")
        return {
            **v,
            "nik": nik,
            "ext_person": ext_person,
            "ext_family": ext_family,
            "region_code": self.resolve_desa(v),
            "norm_name": normalize_name(name) if name else None,
        }


def _derived_person_id(family: str | None, nik: str | None, values: dict[str, Any]) -> str | None:
    """A stable person key when a DTSEN export has no person id: family id + NIK, else + name and birth date."""
    if not family:
        return None
    if nik:
        return f"{family}:{nik}"[:64]
    from households.importing.linkage import normalize_name

    birth = values.get("birth_date")
    return f"{family}:{normalize_name(values.get('name') or '')}:{birth or ''}"[:64]


@dataclass
class StagedRow:
    """One file row after staging (SQLite path): staging values, raw row, flags."""

    row_number: int
    values: dict[str, Any]
    raw: dict[str, str]
    rejected: bool = False
    warned: bool = False


@dataclass
class StagedFile:
    """What staging one file produced, for the checks, the apply step and the counts."""

    kind: str
    header_row: int
    columns: list[dict[str, str | None]]  # [{header, field}]
    unmatched: list[str]
    header_of: dict[str, str]  # field -> header as written
    present: frozenset[str]  # fields the file has a column for
    rows_read: int = 0
    rows: list[StagedRow] = field(default_factory=list)  # SQLite path only
    issues: list[RowIssue] = field(default_factory=list)  # SQLite path only

    def header(self, name: str) -> str:
        return self.header_of.get(name, name)


def staged_file(kind: str, parsed: ParsedFileLike) -> StagedFile:
    header_of: dict[str, str] = {}
    for column in parsed.columns:
        if column.field and column.field not in header_of:
            header_of[column.field] = column.header
    return StagedFile(
        kind=kind,
        header_row=parsed.header_row,
        columns=[{"header": c.header, "field": c.field} for c in parsed.columns],
        unmatched=list(parsed.unmatched),
        header_of=header_of,
        present=frozenset(header_of),
    )


def msg_value_too_long() -> str:
    return _("Nilai lebih dari %(limit)s karakter; dipotong.")


def _cut(value: str, limit: int, column: StageColumn, staged: StagedFile) -> tuple[str, CellIssue]:
    issue = CellIssue(
        column=staged.header(column.name),
        value=value,
        code="value_too_long",
        message=msg_value_too_long() % {"limit": limit},
        severity="warning",
    )
    return value[:limit], issue


def stage_values(
    row: ParsedRow, adapter: Adapter, columns: Sequence[StageColumn], staged: StagedFile
) -> tuple[dict[str, Any], list[CellIssue]]:
    """Staging values of one row as the registry stores them (SQLite path; same rules as ``sql_value``)."""
    values, issues = cut_long_values(adapter(row), row.issues, staged.kind, staged)
    out: dict[str, Any] = {}
    for column in columns:
        value = values.get(column.name)
        if column.sql_type == "text" and (value is None or value == ""):
            value = "" if column.blank else None
        out[column.name] = value
    return out, list(issues)


def row_issue(kind: str, row_number: int, issue: CellIssue) -> RowIssue:
    return RowIssue(kind, row_number, issue.column, issue.value, issue.code, issue.message, issue.severity)


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL: TEMP tables + COPY
#
# Values go to COPY as Python gives them (csv.writer turns None and "" into an unquoted empty field = NULL,
# True/False, ints and dates into text PostgreSQL reads back): no per-cell conversion in Python. Blank
# text is therefore NULL in staging; ``sql_value`` gives "" back where the registry column is NOT NULL.


def sql_value(kind: str, name: str, alias: str = "s") -> str:
    """SQL of a staged column as the registry stores it (blank text -> "")."""
    if name in BLANK_TEXT[kind]:
        return f"coalesce({alias}.{name}, '')"
    return f"{alias}.{name}"


BLANK_TEXT: dict[str, frozenset[str]] = {
    kind: frozenset(c.name for c in columns if c.blank) for kind, columns in COLUMNS.items()
}
# Free-text columns whose length the registry limits (code-list values are the parser's short codes).
_CODED = {f.name for model in (Household, Person) for f in model._meta.concrete_fields if f.choices}
LIMITED: dict[str, tuple[tuple[str, int], ...]] = {
    kind: tuple((c.name, c.max_length) for c in columns if c.max_length is not None and c.name not in _CODED)
    for kind, columns in COLUMNS.items()
}


def cut_long_values(
    values: dict[str, Any], issues: list[CellIssue], kind: str, staged: StagedFile
) -> tuple[dict[str, Any], list[CellIssue]]:
    """Values longer than their registry column are cut, with a warning (else the whole import would fail).

    The parsed row is never changed: the first cut copies its values and issues.
    """
    copied = False
    for name, limit in LIMITED[kind]:
        value = values.get(name)
        if value is not None and len(value) > limit:
            if not copied:
                values, issues, copied = dict(values), list(issues), True
            values[name], issue = _cut(str(value), limit, StageColumn(name, "text", limit), staged)
            issues.append(issue)
    return values, issues


# COPY text format: a field equal to COPY_NULL is NULL. A control character no spreadsheet cell consists
# of, so typed values go through str() alone; a value with a tab, newline or backslash, or equal to that very
# character, takes the escaping path.
COPY_NULL = "\x01"
COPY_NULL_SQL = "\\x01"
_SPECIAL = re.compile(r"[\\\n\r]")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x01": "\\x01"})


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


# Staging columns the planner needs statistics on (joins and filters).
ANALYZED: dict[str, tuple[str, ...]] = {
    FAMILY: ("row_number", "rejected", "id_keluarga", "region_code"),
    PERSON: ("row_number", "rejected", "id_keluarga", "id_individu", "nik"),
    DTKS: ("row_number", "rejected", "ext_person", "ext_family", "nik", "region_code", "birth_date"),
    DTSEN: ("row_number", "rejected", "ext_person", "ext_family", "nik", "region_code", "birth_date"),
    INTERVENTION: ("row_number", "rejected", "id_keluarga", "nik"),
}


COPY_CHUNK = 1 << 16  # bytes psycopg2 asks the reader for at a time
NO_RAW = frozenset({INTERVENTION})  # kinds staged with an empty raw row (``{}``)


def _copy_lines(
    kind: str,
    names: list[str],
    rows: Iterator[ParsedRow],
    adapter: Adapter,
    write_issue: Callable[[Sequence[Any]], Any],
) -> Iterator[str]:
    """COPY text lines of the staging table, one per parsed row; the row's issues go to ``write_issue``."""
    dumps = json.dumps  # the default encoder (ASCII escapes): the fastest path, same jsonb
    # Deliveries are never stored with their row (no source link; the row errors carry the cell values): no raw
    # row for them. Measured on 100k rows: a third of this function's CPU, and most of the COPY's bytes.
    keep_raw = kind not in NO_RAW
    tabs = len(names) + 2
    for row in rows:
        values = adapter(row)
        rejected = warned = False
        for issue in row.issues:
            if issue.severity == "error":
                rejected = True
            else:
                warned = True
            write_issue((kind, row.row_number, issue.column, issue.value, issue.code, issue.message, issue.severity))
        typed = [row.row_number, rejected, warned and not rejected, *map(values.get, names)]
        line = "\t".join([COPY_NULL if v is None else str(v) for v in typed])
        if line.count("\t") != tabs or _SPECIAL.search(line) or COPY_NULL in typed:
            line = "\t".join([COPY_NULL if v is None else _escape(str(v)) for v in typed])
        if not keep_raw:
            yield f"{line}\t{{}}\n"
            continue
        # JSON escapes its own control characters; only its backslashes need COPY's escaping.
        yield f"{line}\t{dumps(row.raw).replace(chr(92), chr(92) * 2)}\n"


class _LineReader:
    """A read()-able view of an iterator of lines for ``copy_expert``; counts the lines it handed out.

    An exception of the iterator (e.g. ImportFileError from the reader) ends the COPY quietly and is kept in
    ``error``: psycopg2 would otherwise turn it into a database error and the message would be lost.
    """

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self.lines = 0
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> str:
        """About ``size`` characters of whole lines ("" at the end); psycopg2 takes any length."""
        wanted = COPY_CHUNK if size < 0 else size
        parts: list[str] = []
        length = 0
        try:
            for line in self._lines:
                parts.append(line)
                length += len(line)
                self.lines += 1
                if length >= wanted:
                    break
        except Exception as exc:  # re-raised by PgStager.stage once the COPY is over
            self.error = exc
            return ""
        return "".join(parts)


class PgStager:
    """Creates the TEMP staging tables of one import session and COPYs parsed rows into them."""

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def create(self) -> None:
        self.drop()
        for kind in (FAMILY, PERSON, DTKS, INTERVENTION):
            cols = ", ".join(f"{c.name} {c.sql_type}" for c in COLUMNS[kind])
            self.cursor.execute(
                f"CREATE TEMP TABLE {TABLES[kind]} (row_number integer NOT NULL, rejected boolean NOT NULL, "
                f"warned boolean NOT NULL, {cols}, raw jsonb NOT NULL)"
            )
        self.cursor.execute(
            f"CREATE TEMP TABLE {ISSUE_TABLE} (file text NOT NULL, row_number integer NOT NULL, col text NOT NULL, "
            "value text NOT NULL, code text NOT NULL, message text NOT NULL, severity text NOT NULL)"
        )

    def drop(self) -> None:
        tables = ", ".join([*dict.fromkeys(TABLES.values()), ISSUE_TABLE])
        self.cursor.execute(f"DROP TABLE IF EXISTS {tables}")

    def stage(
        self,
        staged: StagedFile,
        rows: Iterator[ParsedRow],
        adapter: Adapter,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """COPY every row of the file (rejected ones flagged) and its parser issues, ``BATCH_ROWS`` at a time.

        Each batch streams: the server reads and stores the rows already sent while the next ones are parsed
        (two cores at work). The callback runs between batches, when the connection is free again; the
        parser and the adapter must not touch the database (the connection is busy with the COPY).
        """
        kind = staged.kind
        names = [c.name for c in COLUMNS[kind]]
        row_sql = (
            f"COPY {TABLES[kind]} (row_number, rejected, warned, {', '.join(names)}, raw) "
            f"FROM STDIN (FORMAT text, NULL E'{COPY_NULL_SQL}')"
        )
        # An empty value or column is "" there, not NULL.
        issue_sql = f"COPY {ISSUE_TABLE} FROM STDIN (FORMAT csv, FORCE_NOT_NULL (col, value, message))"
        issue_buffer = io.StringIO()
        lines = _copy_lines(kind, names, rows, adapter, csv.writer(issue_buffer, lineterminator="\n").writerow)
        while True:
            batch = _LineReader(itertools.islice(lines, BATCH_ROWS))
            self.cursor.copy_expert(row_sql, batch, COPY_CHUNK)
            if batch.error is not None:
                raise batch.error
            if issue_buffer.tell():
                issue_buffer.seek(0)
                self.cursor.copy_expert(issue_sql, issue_buffer)
                issue_buffer.seek(0)
                issue_buffer.truncate()
            staged.rows_read += batch.lines
            if batch.lines < BATCH_ROWS:
                break
            if on_batch:
                on_batch(staged.rows_read)
        self._cut_long_values(staged)
        if on_batch:
            on_batch(staged.rows_read)
        self.cursor.execute(f"CREATE INDEX ON {TABLES[kind]} (row_number)")
        # TEMP tables are never auto-analyzed; the planner needs the join columns only.
        self.cursor.execute(f"ANALYZE {TABLES[kind]} ({', '.join(ANALYZED[kind])})")

    def _cut_long_values(self, staged: StagedFile) -> None:
        """Text longer than its registry column is cut, with a warning (else the whole apply would fail)."""
        from households.importing.checks import pg_template

        limited = LIMITED[staged.kind]
        if not limited:
            return
        table = TABLES[staged.kind]
        checked = ", ".join(f"(%s, s.{name}, {limit})" for name, limit in limited)
        too_long = " OR ".join(f"length({name}) > {limit}" for name, limit in limited)
        cuts = ", ".join(f"{name} = left({name}, {limit})" for name, limit in limited)
        self.cursor.execute(
            f"""
            WITH flagged AS MATERIALIZED (
                SELECT * FROM {table} WHERE NOT rejected AND ({too_long})
            ), long AS (
                SELECT s.row_number, v.header, v.value, v.lim
                FROM flagged s CROSS JOIN LATERAL (VALUES {checked}) v(header, value, lim)
                WHERE length(v.value) > v.lim
            ), cut AS (
                UPDATE {table} s SET {cuts}, warned = true
                WHERE s.row_number IN (SELECT row_number FROM long) RETURNING 1
            )
            INSERT INTO {ISSUE_TABLE} (file, row_number, col, value, code, message, severity)
            SELECT %s, row_number, header, value, 'value_too_long', format(%s, lim), 'warning' FROM long
            """,  # noqa: S608 - identifiers and limits are ours
            [
                *(staged.header(name) for name, _limit in limited),
                staged.kind,
                pg_template(msg_value_too_long(), ["limit"]),
            ],
        )


# ---------------------------------------------------------------------------------------------------------------
# SQLite: in memory


def memory_stage(
    staged: StagedFile, rows: Iterator[ParsedRow], adapter: Adapter, on_batch: Callable[[int], None] | None = None
) -> None:
    columns = COLUMNS[staged.kind]
    for row in rows:
        values, row_issues = stage_values(row, adapter, columns, staged)
        rejected = any(i.severity == "error" for i in row_issues)
        warned = not rejected and any(i.severity == "warning" for i in row_issues)
        staged.rows.append(StagedRow(row.row_number, values, row.raw, rejected, warned))
        staged.issues.extend(row_issue(staged.kind, row.row_number, i) for i in row_issues)
        staged.rows_read += 1
        if on_batch and staged.rows_read % BATCH_ROWS == 0:
            on_batch(staged.rows_read)
    if on_batch:
        on_batch(staged.rows_read)


DELIVERY_FIELDS = ("delivered_on", "value", "quantity", "status", "note")


def _intervention_values(row: ParsedRow) -> dict[str, Any]:
    """A pre-filled template row the officer left empty (no delivery data at all) is skipped, not refused for its
    blank date: its only issue, "required" on the date, is dropped here (before the row's issues are staged)."""
    values = row.values
    if all(values.get(name) is None for name in DELIVERY_FIELDS) and all(i.code == "required" for i in row.issues):
        row.issues = []
        return {**values, "skipped": True}
    return values


def adapter_for(kind: str, resolve_desa: Callable[[dict[str, Any]], str | None]) -> Adapter:
    if kind == INTERVENTION:
        return _intervention_values
    if kind in (FAMILY, PERSON):
        return _p3ke_values
    return SecondSourceAdapter(kind, resolve_desa)
