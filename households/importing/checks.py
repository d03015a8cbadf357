"""Cross-row and registry checks on staged rows, set-based.

Each rule is written twice with the same message: one SQL statement on the PostgreSQL staging table
(``pg_*``: flag the rows, record the issue with ``format()``), and a pass over the in-memory rows for the
embedded SQLite default (``mem_*``). Rules that reject a row set ``rejected``; warnings set ``warned``
and keep the row. A rule only looks at rows no earlier rule rejected, so "first occurrence" means the
first row still accepted at that point.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from households.importing.stage import ISSUE_TABLE, TABLES, StagedFile, StagedRow
from households.importing.types import FAMILY, PERSON, RowIssue, Severity
from households.models import Household, HouseholdSourceLink, Person, PersonSourceLink
from tkpk.identifiers import dotted_region_code, mask_identifier
from tkpk.models import Region

LOOKUP_BATCH = 2000
T = TypeVar("T")

# ---------------------------------------------------------------------------------------------------------------
# Messages (one msgid per rule, shared by both paths)


def msg_region_unknown() -> str:
    return _("Kode wilayah %(code)s tidak ada dalam daftar wilayah yang dimuat.")


def msg_region_outside() -> str:
    return _("Kode wilayah %(code)s di luar wilayah %(region)s.")


def msg_desa_name() -> str:
    return _("Nama desa/kelurahan “%(name)s” tidak sesuai dengan kode %(code)s (%(expected)s).")


def msg_duplicate_family() -> str:
    return _("ID Keluarga P3KE %(id)s ganda: sudah ada di baris %(row)s.")


def msg_duplicate_person() -> str:
    return _("ID Individu %(id)s ganda: sudah ada di baris %(row)s.")


def msg_duplicate_second() -> str:
    return _("ID %(id)s ganda: sudah ada di baris %(row)s.")


def msg_family_rejected() -> str:
    return _("Keluarga %(id)s ditolak di berkas keluarga (baris %(row)s); anggotanya tidak dimuat.")


def msg_family_missing() -> str:
    return _("Keluarga %(id)s tidak ada di berkas keluarga maupun registri.")


def msg_family_outside() -> str:
    return _("Keluarga %(id)s di registri berada di luar wilayah %(region)s.")


def msg_nik_duplicate() -> str:
    return _("NIK %(nik)s juga tercantum di baris %(row)s.")


def msg_nik_other_household() -> str:
    return _("NIK %(nik)s sudah tercatat pada anggota keluarga lain di registri.")


# ---------------------------------------------------------------------------------------------------------------
# Shared helpers


@dataclass(frozen=True)
class Scope:
    """The job's region: rows outside it are rejected."""

    code: str  # plain Kemendagri code of the TKPK region (2 or 4 digits)
    label: str  # "33.24 Kabupaten Kendal"

    @classmethod
    def of(cls, region: Region) -> Scope:
        return cls(region.code, f"{dotted_region_code(region.code)} {region.name}")


_DESA_PREFIX = re.compile(r"^(DESA|KELURAHAN|KEL)[^A-Z0-9]+|[^A-Z0-9]")
# The same normalisation in SQL (ASCII upper-case letters and digits only, "DESA "/"KELURAHAN " dropped).
_SQL_DESA_NORM = "regexp_replace(upper({}), '^(DESA|KELURAHAN|KEL)[^A-Z0-9]+|[^A-Z0-9]', '', 'g')"


def normalize_desa_name(name: str) -> str:
    return _DESA_PREFIX.sub("", name.upper())


SQL_DESA_EXISTS = f"SELECT 1 FROM {Region._meta.db_table} r WHERE r.code = {{}} AND r.level = 4"  # noqa: S608


def sql_dotted(expr: str) -> str:
    return (
        f"CASE WHEN length({expr}) = 10 THEN concat_ws('.', substr({expr}, 1, 2), substr({expr}, 3, 2), "
        f"substr({expr}, 5, 2), substr({expr}, 7, 4)) ELSE {expr} END"
    )


def sql_masked(expr: str) -> str:
    """``mask_identifier`` in SQL: first 4 and last 4 digits of a 16-digit number."""
    return f"left({expr}, 4) || '********' || right({expr}, 4)"


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


def pg_template(template: str, names: Sequence[str], constants: dict[str, str] | None = None) -> str:
    """A gettext %-template -> a PostgreSQL ``format()`` template.

    ``names`` are the placeholders filled from SQL, in the order of the ``format()`` arguments (positional
    ``%n$s``, so a translation may reorder them); ``constants`` are filled in here.
    """

    def sub(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%%"
        name = match.group(1)
        if constants and name in constants:
            return constants[name].replace("%", "%%")
        return f"%{names.index(name) + 1}$s"

    return _PLACEHOLDER.sub(sub, template)


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


@dataclass
class PgRule:
    """One set-based rule: flag the matching rows of a staging table and record one issue per row."""

    code: str
    severity: Severity
    field: str  # the file column the issue points at
    where: str  # over ``s`` (the staging row) and the tables of ``from_``
    value: str  # SQL of the offending value
    template: str
    args: dict[str, str]  # placeholder -> SQL expression
    constants: dict[str, str] | None = None
    from_: str = ""
    params: Sequence[Any] = ()

    def run(self, cursor: Any, staged: StagedFile) -> int:
        table = TABLES[staged.kind]
        flag = "rejected" if self.severity == "error" else "warned"
        names = list(self.args)
        returning = "".join(f", {expr} AS a{i}" for i, expr in enumerate(self.args.values()))
        format_args = "".join(f", a{i}" for i in range(len(names)))
        from_sql = f"FROM {self.from_}" if self.from_ else ""
        sql = f"""
            WITH hit AS (
                UPDATE {table} s SET {flag} = true {from_sql}
                WHERE NOT s.rejected AND ({self.where})
                RETURNING s.row_number, ({self.value})::text AS value{returning}
            )
            INSERT INTO {ISSUE_TABLE} (file, row_number, col, value, code, message, severity)
            SELECT %s, row_number, %s, coalesce(value, ''), %s, format(%s{format_args}), %s FROM hit
        """  # noqa: S608 - identifiers are ours, values are parameters
        template = pg_template(self.template, names, self.constants)
        cursor.execute(sql, [*self.params, staged.kind, staged.header(self.field), self.code, template, self.severity])
        return int(cursor.rowcount)


def _first_occurrence(table: str, key: str, extra: str = "") -> str:
    return (
        f"(SELECT {key} AS key, min(row_number) AS first_row FROM {table} "  # noqa: S608
        f"WHERE NOT rejected AND {key} IS NOT NULL {extra} GROUP BY {key} HAVING count(*) > 1) d"
    )


def pg_family_checks(cursor: Any, staged: StagedFile, scope: Scope) -> None:
    table = TABLES[FAMILY]
    code = "s.region_code"
    rules = [
        PgRule(
            code="region_unknown",
            severity="error",
            field="region_code",
            where=f"NOT EXISTS ({SQL_DESA_EXISTS.format('s.region_code')})",
            value=code,
            template=msg_region_unknown(),
            args={"code": sql_dotted(code)},
        ),
        PgRule(
            code="region_outside",
            severity="error",
            field="region_code",
            where="NOT starts_with(s.region_code, %s)",
            params=[scope.code],
            value=code,
            template=msg_region_outside(),
            args={"code": sql_dotted(code)},
            constants={"region": scope.label},
        ),
        PgRule(
            code="duplicate_id",
            severity="error",
            field="id_keluarga",
            from_=_first_occurrence(table, "id_keluarga"),
            where="s.id_keluarga = d.key AND s.row_number > d.first_row",
            value="s.id_keluarga",
            template=msg_duplicate_family(),
            args={"id": "s.id_keluarga", "row": "d.first_row"},
        ),
    ]
    if "desa_name" in staged.present:
        rules.append(
            PgRule(
                code="desa_name_mismatch",
                severity="warning",
                field="desa_name",
                from_=f"{Region._meta.db_table} r",
                where=(
                    f"r.code = s.region_code AND s.desa_name <> '' AND "
                    f"{_SQL_DESA_NORM.format('s.desa_name')} <> {_SQL_DESA_NORM.format('r.name')}"
                ),
                value="s.desa_name",
                template=msg_desa_name(),
                args={"name": "s.desa_name", "code": sql_dotted(code), "expected": "r.name"},
            )
        )
    for rule in rules:
        rule.run(cursor, staged)


def pg_person_checks(cursor: Any, staged: StagedFile, scope: Scope, *, source: str, has_family_file: bool) -> None:
    table = TABLES[PERSON]
    families = TABLES[FAMILY]
    hh_link = HouseholdSourceLink._meta.db_table
    accepted_family = f"EXISTS (SELECT 1 FROM {families} f WHERE f.id_keluarga = s.id_keluarga AND NOT f.rejected)"  # noqa: S608
    rules = []
    if has_family_file:
        rules.append(
            PgRule(
                code="family_rejected",
                severity="error",
                field="id_keluarga",
                from_=(
                    f"(SELECT id_keluarga AS key, min(row_number) AS first_row FROM {families} "  # noqa: S608
                    "GROUP BY id_keluarga HAVING bool_and(rejected)) d"
                ),
                where="s.id_keluarga = d.key",
                value="s.id_keluarga",
                template=msg_family_rejected(),
                args={"id": "s.id_keluarga", "row": "d.first_row"},
            )
        )
    rules += [
        PgRule(
            code="family_outside",
            severity="error",
            field="id_keluarga",
            from_=f"{hh_link} l JOIN {Household._meta.db_table} h ON h.id = l.household_id",
            where=(
                f"l.source_id = %s AND l.external_id = s.id_keluarga AND NOT starts_with(h.desa_id, %s) "
                f"AND NOT {accepted_family}"
            ),
            params=[source, scope.code],
            value="s.id_keluarga",
            template=msg_family_outside(),
            args={"id": "s.id_keluarga"},
            constants={"region": scope.label},
        ),
        PgRule(
            code="family_missing",
            severity="error",
            field="id_keluarga",
            where=(
                f"NOT {accepted_family} AND NOT EXISTS (SELECT 1 FROM {hh_link} l "  # noqa: S608
                "WHERE l.source_id = %s AND l.external_id = s.id_keluarga)"
            ),
            params=[source],
            value="s.id_keluarga",
            template=msg_family_missing(),
            args={"id": "s.id_keluarga"},
        ),
        PgRule(
            code="duplicate_id",
            severity="error",
            field="id_individu",
            from_=_first_occurrence(table, "id_individu"),
            where="s.id_individu = d.key AND s.row_number > d.first_row",
            value="s.id_individu",
            template=msg_duplicate_person(),
            args={"id": "s.id_individu", "row": "d.first_row"},
        ),
        PgRule(
            code="nik_duplicate",
            severity="warning",
            field="nik",
            from_=_first_occurrence(table, "nik"),
            where="s.nik = d.key AND s.row_number > d.first_row",
            value="s.nik",
            template=msg_nik_duplicate(),
            args={"nik": sql_masked("s.nik"), "row": "d.first_row"},
        ),
        PgRule(
            code="nik_other_household",
            severity="warning",
            field="nik",
            # A registry person with this NIK that is neither this row's own person (same ID Individu) nor in
            # the household this row belongs to.
            from_=f"""(
                SELECT DISTINCT s2.row_number FROM {table} s2
                JOIN {Person._meta.db_table} p ON p.nik = s2.nik
                LEFT JOIN {hh_link} hl ON hl.source_id = %s AND hl.external_id = s2.id_keluarga
                LEFT JOIN {PersonSourceLink._meta.db_table} pl ON pl.source_id = %s AND pl.external_id = s2.id_individu
                WHERE NOT s2.rejected AND s2.nik IS NOT NULL
                  AND p.household_id IS DISTINCT FROM hl.household_id AND p.id IS DISTINCT FROM pl.person_id
            ) d""",  # noqa: S608
            params=[source, source],
            where="s.row_number = d.row_number",
            value="s.nik",
            template=msg_nik_other_household(),
            args={"nik": sql_masked("s.nik")},
        ),
    ]
    for rule in rules:
        rule.run(cursor, staged)


# ---------------------------------------------------------------------------------------------------------------
# In memory (SQLite)


def _batches(items: Sequence[Any], size: int = LOOKUP_BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def lookup(values: Iterable[Any], fetch: Callable[[Sequence[Any]], Iterable[T]]) -> list[T]:
    """Run ``fetch`` over ``values`` (blanks skipped) in batches: one query per ``LOOKUP_BATCH`` keys."""
    keys = sorted({v for v in values if v})
    found: list[T] = []
    for batch in _batches(keys):
        found.extend(fetch(batch))
    return found


class MemoryChecks:
    """The same rules over ``StagedFile.rows``; issues go to ``StagedFile.issues``."""

    def __init__(self, staged: StagedFile) -> None:
        self.staged = staged

    def flag(self, row: StagedRow, *, field: str, value: Any, code: str, severity: Severity, message: str) -> None:
        if severity == "error":
            row.rejected = True
            row.warned = False
        else:
            row.warned = True
        self.staged.issues.append(
            RowIssue(
                self.staged.kind,
                row.row_number,
                self.staged.header(field),
                "" if value is None else str(value),
                code,
                message,
                severity,
            )
        )

    def accepted(self) -> list[StagedRow]:
        return [row for row in self.staged.rows if not row.rejected]

    def duplicates(self, key: str, *, code: str, severity: Severity, field: str, message: Callable[..., str]) -> None:
        first: dict[Any, int] = {}
        for row in self.accepted():
            value = row.values.get(key)
            if value is None:
                continue
            if value in first:
                self.flag(
                    row, field=field, value=value, code=code, severity=severity, message=message(value, first[value])
                )
            else:
                first[value] = row.row_number


def mem_family_checks(staged: StagedFile, scope: Scope) -> None:
    checks = MemoryChecks(staged)
    codes = [row.values["region_code"] for row in checks.accepted() if row.values.get("region_code")]
    regions = dict(
        lookup(codes, lambda batch: Region.objects.filter(code__in=batch, level=4).values_list("code", "name"))
    )
    for row in checks.accepted():
        code = row.values.get("region_code") or ""
        if code not in regions:
            message = msg_region_unknown() % {"code": dotted_region_code(code)}
            checks.flag(row, field="region_code", value=code, code="region_unknown", severity="error", message=message)
    for row in checks.accepted():
        code = row.values["region_code"]
        if not code.startswith(scope.code):
            message = msg_region_outside() % {"code": dotted_region_code(code), "region": scope.label}
            checks.flag(row, field="region_code", value=code, code="region_outside", severity="error", message=message)
    checks.duplicates(
        "id_keluarga",
        code="duplicate_id",
        severity="error",
        field="id_keluarga",
        message=lambda value, first: msg_duplicate_family() % {"id": value, "row": first},
    )
    if "desa_name" in staged.present:
        for row in checks.accepted():
            name, code = row.values.get("desa_name") or "", row.values["region_code"]
            if name and normalize_desa_name(name) != normalize_desa_name(regions[code]):
                message = msg_desa_name() % {"name": name, "code": dotted_region_code(code), "expected": regions[code]}
                checks.flag(
                    row, field="desa_name", value=name, code="desa_name_mismatch", severity="warning", message=message
                )


def mem_person_checks(staged: StagedFile, scope: Scope, *, source: str, family_file: StagedFile | None) -> None:
    checks = MemoryChecks(staged)
    accepted_families: set[str] = set()
    rejected_families: dict[str, int] = {}
    if family_file is not None:
        for row in family_file.rows:
            family_id = row.values.get("id_keluarga")
            if family_id is None:
                continue
            if row.rejected:
                rejected_families.setdefault(family_id, row.row_number)
            else:
                accepted_families.add(family_id)
        for row in checks.accepted():
            family_id = row.values.get("id_keluarga")
            if family_id in rejected_families and family_id not in accepted_families:
                message = msg_family_rejected() % {"id": family_id, "row": rejected_families[family_id]}
                checks.flag(
                    row, field="id_keluarga", value=family_id, code="family_rejected", severity="error", message=message
                )
    registry: dict[str, str] = dict(
        lookup(
            (r.values.get("id_keluarga") for r in checks.accepted()),
            lambda batch: HouseholdSourceLink.objects.filter(source_id=source, external_id__in=batch).values_list(
                "external_id", "household__desa_id"
            ),
        )
    )
    for row in checks.accepted():
        family_id = row.values.get("id_keluarga")
        if family_id in accepted_families:
            continue
        if family_id not in registry:
            message = msg_family_missing() % {"id": family_id}
            checks.flag(
                row, field="id_keluarga", value=family_id, code="family_missing", severity="error", message=message
            )
        elif not str(registry[family_id]).startswith(scope.code):
            message = msg_family_outside() % {"id": family_id, "region": scope.label}
            checks.flag(
                row, field="id_keluarga", value=family_id, code="family_outside", severity="error", message=message
            )
    checks.duplicates(
        "id_individu",
        code="duplicate_id",
        severity="error",
        field="id_individu",
        message=lambda value, first: msg_duplicate_person() % {"id": value, "row": first},
    )
    checks.duplicates(
        "nik",
        code="nik_duplicate",
        severity="warning",
        field="nik",
        message=lambda value, first: msg_nik_duplicate() % {"nik": mask_identifier(value), "row": first},
    )
    _mem_nik_other_household(checks, source)


def _mem_nik_other_household(checks: MemoryChecks, source: str) -> None:
    rows = [row for row in checks.accepted() if row.values.get("nik")]
    holders: dict[str, list[tuple[int, int]]] = {}
    for nik, person_id, household_id in lookup(
        (row.values["nik"] for row in rows),
        lambda batch: Person.objects.filter(nik__in=batch).values_list("nik", "id", "household_id"),
    ):
        holders.setdefault(str(nik), []).append((person_id, household_id))
    if not holders:
        return
    rows = [row for row in rows if row.values["nik"] in holders]
    households = dict(
        lookup(
            (row.values["id_keluarga"] for row in rows),
            lambda batch: HouseholdSourceLink.objects.filter(source_id=source, external_id__in=batch).values_list(
                "external_id", "household_id"
            ),
        )
    )
    persons = dict(
        lookup(
            (row.values["id_individu"] for row in rows),
            lambda batch: PersonSourceLink.objects.filter(source_id=source, external_id__in=batch).values_list(
                "external_id", "person_id"
            ),
        )
    )
    for row in rows:
        own_household = households.get(row.values["id_keluarga"])
        own_person = persons.get(row.values["id_individu"])
        if any(pid != own_person and hid != own_household for pid, hid in holders[row.values["nik"]]):
            message = msg_nik_other_household() % {"nik": mask_identifier(row.values["nik"])}
            checks.flag(
                row,
                field="nik",
                value=row.values["nik"],
                code="nik_other_household",
                severity="warning",
                message=message,
            )
