"""Linkage of a second source (DTKS, DTSEN) to the registry; uncertain matches go to ``LinkageReview``.

Persons (one file row each), in this order:

1. ``linked``: the row's id already has a PersonSourceLink of this source (an earlier import).
2. ``nik``: exactly one registry person in the job's region has the row's valid NIK.
3. ``name``: no NIK match, and exactly one registry person in the row's desa has the same birth date and the
   same normalised name (``normalize_name``: upper case, punctuation and apostrophes out, leading titles
   such as H./HJ./DR. and any degree after a comma dropped, spaces collapsed).
4. several candidates at step 2 or 3 -> ``ambiguous`` (review); none -> ``unmatched``.
   A registry person claimed by several rows keeps the first row (or the row already linked to it); the
   others become ``ambiguous``. Households with status ``merged`` are never candidates.

Families (rows with the same No KK for DTKS / ID keluarga DTSEN; a row without one is its own family):
``linked`` (the family id already has a HouseholdSourceLink), else ``matched`` (all matched members in one
household), ``conflict`` (members in different households: review, the household link is not made), ``new``
(every member unmatched, a family id and a desa for every row: the family is created with its members,
the head being the row with relationship KEPALA_KELUARGA, else the first row), or ``none``.

What is written: links for linked/matched persons and families, the new families, blanks filled (never
overwritten): ``Household.desil`` from the source's desil only when the household has none (the source's own
desil always goes to ``HouseholdSourceLink.desil``, so a P3KE desil is never overwritten silently),
``Household.no_kk``, ``Person.birth_place`` and ``Person.mother_name``. Unmatched members of a matched family
are NOT added to it: they go to review (they may be members P3KE spells differently).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from households import choices
from households.importing import checks
from households.importing.stage import SECOND_PERSON_FIELDS, TABLES, StagedFile, StagedRow, sql_value
from households.importing.types import DTKS, ImportSummary
from households.models import (
    Household,
    HouseholdSourceLink,
    LinkageReview,
    Person,
    PersonSourceLink,
)
from tkpk.identifiers import dotted_region_code, mask_identifier

if TYPE_CHECKING:
    from households.importing.apply import ApplyContext
    from households.importing.engine import RegionIndex
    from households.models import ImportJob

SECOND = TABLES[DTKS]
TEMP_TABLES = ("imp_link_row", "imp_link_cand", "imp_link_person", "imp_link_family")
MATCHED = ("linked", "nik", "name")
HEAD = choices.Relationship.HEAD
Reason = LinkageReview.Reason

# ---------------------------------------------------------------------------------------------------------------
# Name normalisation (Python and the same in SQL)

_TITLES = "H|HJ|HAJI|HAJJAH|DR|DRS|DRA|IR|PROF|KH|NY|TN|SDR|SDRI"
_APOSTROPHES = re.compile(r"['`’]")
_NOT_LETTER = re.compile(r"[^A-Za-z ]+")
_SPACES = re.compile(r" +")
_LEADING_TITLES = re.compile(rf"^(({_TITLES}) )+")

# pg_temp: a function of this session only, so nothing is added to the schema.
SQL_NORM_FUNCTION = rf"""
CREATE OR REPLACE FUNCTION pg_temp.tkpk_norm_name(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT regexp_replace(
    btrim(regexp_replace(upper(regexp_replace(regexp_replace(split_part($1, ',', 1), '[''`’]', '', 'g'),
                                              '[^A-Za-z ]+', ' ', 'g')), ' +', ' ', 'g')),
    '^(({_TITLES}) )+', '')
$$
"""


def normalize_name(name: str) -> str:
    """``"Hj. Siti Ma'rifah, S.Pd."`` -> ``"SITI MARIFAH"``: what two spellings of a name must share."""
    text = _APOSTROPHES.sub("", name.split(",", 1)[0])
    text = _SPACES.sub(" ", _NOT_LETTER.sub(" ", text).upper()).strip()
    return _LEADING_TITLES.sub("", text)


# ---------------------------------------------------------------------------------------------------------------
# Checks on the second-source file


def _id_field(staged: StagedFile) -> str:
    if staged.kind == DTKS:
        return "id_dtks"
    return "id_dtsen_individu" if "id_dtsen_individu" in staged.present else "id_dtsen_keluarga"


def pg_second_checks(cursor: Any, staged: StagedFile, scope: checks.Scope) -> None:
    code = "s.region_code"
    rules = [
        checks.PgRule(
            code="region_unknown",
            severity="error",
            field="region_code",
            where=f"{code} IS NOT NULL AND NOT EXISTS ({checks.SQL_DESA_EXISTS.format(code)})",
            value=code,
            template=checks.msg_region_unknown(),
            args={"code": checks.sql_dotted(code)},
        ),
        checks.PgRule(
            code="region_outside",
            severity="error",
            field="region_code",
            where=f"{code} IS NOT NULL AND NOT starts_with({code}, %s)",
            params=[scope.code],
            value=code,
            template=checks.msg_region_outside(),
            args={"code": checks.sql_dotted(code)},
            constants={"region": scope.label},
        ),
        checks.PgRule(
            code="duplicate_id",
            severity="error",
            field=_id_field(staged),
            from_=checks._first_occurrence(SECOND, "ext_person"),
            where="s.ext_person = d.key AND s.row_number > d.first_row",
            value="s.ext_person",
            template=checks.msg_duplicate_second(),
            args={"id": "s.ext_person", "row": "d.first_row"},
        ),
        checks.PgRule(
            code="nik_duplicate",
            severity="warning",
            field="nik",
            from_=checks._first_occurrence(SECOND, "nik"),
            where="s.nik = d.key AND s.row_number > d.first_row",
            value="s.nik",
            template=checks.msg_nik_duplicate(),
            args={"nik": checks.sql_masked("s.nik"), "row": "d.first_row"},
        ),
    ]
    for rule in rules:
        rule.run(cursor, staged)


def mem_second_checks(staged: StagedFile, scope: checks.Scope, regions: RegionIndex) -> None:
    c = checks.MemoryChecks(staged)
    for row in c.accepted():
        code = row.values.get("region_code")
        if not code:
            continue
        if code not in regions.desa_names:
            message = checks.msg_region_unknown() % {"code": dotted_region_code(code)}
            c.flag(row, field="region_code", value=code, code="region_unknown", severity="error", message=message)
        elif not code.startswith(scope.code):
            message = checks.msg_region_outside() % {"code": dotted_region_code(code), "region": scope.label}
            c.flag(row, field="region_code", value=code, code="region_outside", severity="error", message=message)
    c.duplicates(
        "ext_person",
        code="duplicate_id",
        severity="error",
        field=_id_field(staged),
        message=lambda value, first: checks.msg_duplicate_second() % {"id": value, "row": first},
    )
    c.duplicates(
        "nik",
        code="nik_duplicate",
        severity="warning",
        field="nik",
        message=lambda value, first: checks.msg_nik_duplicate() % {"nik": mask_identifier(value), "row": first},
    )


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL


def pg_drop(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")


def _linkage_counts(summary: ImportSummary, statuses: dict[str, int], families: dict[str, int]) -> None:
    summary.linkage = {
        "already_linked": statuses.get("linked", 0),
        "matched_by_nik": statuses.get("nik", 0),
        "matched_by_name": statuses.get("name", 0),
        "created": statuses.get("create", 0),
        "ambiguous": statuses.get("ambiguous", 0),
        "unmatched": statuses.get("unmatched", 0),
        "families_new": families.get("new", 0),
        "families_conflict": families.get("conflict", 0),
        "review": statuses.get("ambiguous", 0) + statuses.get("unmatched", 0) + families.get("conflict", 0),
    }


def pg_link(ctx: ApplyContext, staged: StagedFile, summary: ImportSummary, *, job: ImportJob) -> None:
    from households.importing.apply import (
        default_columns,
        event_insert,
        pg_analyze_if_grown,
        pg_flag_missing,
        pg_sequence,
        pg_upsert_links,
        with_events,
    )

    c = ctx.cursor
    person, household = Person._meta.db_table, Household._meta.db_table
    plink, hlink = PersonSourceLink._meta.db_table, HouseholdSourceLink._meta.db_table
    pg_drop(c)
    c.execute(SQL_NORM_FUNCTION)
    c.execute(
        f"""
        CREATE TEMP TABLE imp_link_row AS
        SELECT s.row_number, s.ext_person, s.ext_family, coalesce(s.ext_family, '#' || s.row_number) AS family_key,
               pl.person_id AS linked_person
        FROM {SECOND} s LEFT JOIN {plink} pl ON pl.source_id = %s AND pl.external_id = s.ext_person
        WHERE NOT s.rejected
        """,  # noqa: S608
        [ctx.source],
    )
    c.execute(
        f"""
        CREATE TEMP TABLE imp_link_cand AS
        SELECT r.row_number, p.id AS person_id, p.household_id, 'nik'::text AS how
        FROM imp_link_row r JOIN {SECOND} s ON s.row_number = r.row_number
        JOIN {person} p ON p.nik = s.nik JOIN {household} h ON h.id = p.household_id
        WHERE r.linked_person IS NULL AND s.nik IS NOT NULL AND starts_with(h.desa_id, %s) AND h.status <> %s
        """,  # noqa: S608
        [ctx.scope.code, choices.HouseholdStatus.MERGED],
    )
    c.execute(
        f"""
        INSERT INTO imp_link_cand (row_number, person_id, household_id, how)
        SELECT r.row_number, p.id, p.household_id, 'name'
        FROM imp_link_row r JOIN {SECOND} s ON s.row_number = r.row_number
        JOIN {household} h ON h.desa_id = s.region_code
        JOIN {person} p ON p.household_id = h.id AND p.birth_date = s.birth_date
        WHERE r.linked_person IS NULL AND s.birth_date IS NOT NULL AND s.norm_name <> '' AND h.status <> %s
          AND NOT EXISTS (SELECT 1 FROM imp_link_cand x WHERE x.row_number = r.row_number)
          AND pg_temp.tkpk_norm_name(p.name) = s.norm_name
        """,  # noqa: S608
        [choices.HouseholdStatus.MERGED],
    )
    c.execute(
        """
        CREATE TEMP TABLE imp_link_person AS
        SELECT r.row_number, r.family_key, r.ext_family, r.ext_person,
               CASE WHEN r.linked_person IS NOT NULL THEN 'linked' WHEN x.n = 1 THEN x.how
                    WHEN x.n > 1 THEN 'ambiguous' ELSE 'unmatched' END AS status,
               CASE WHEN r.linked_person IS NOT NULL THEN r.linked_person WHEN x.n = 1 THEN x.person_id END
                   AS person_id,
               coalesce(x.candidates, '[]'::jsonb) AS candidates
        FROM imp_link_row r LEFT JOIN (
            SELECT row_number, count(*) AS n, min(person_id) AS person_id, min(how) AS how,
                   jsonb_agg(jsonb_build_object('person', person_id, 'household', household_id) ORDER BY person_id)
                       AS candidates
            FROM imp_link_cand GROUP BY row_number
        ) x ON x.row_number = r.row_number
        """
    )
    # One registry person, several rows: the row already linked to it (else the first row) keeps it.
    c.execute(
        """
        UPDATE imp_link_person t SET status = 'ambiguous', person_id = NULL
        FROM (
            SELECT person_id, bool_or(status = 'linked') AS has_linked,
                   min(row_number) FILTER (WHERE status IN ('nik', 'name')) AS first_row
            FROM imp_link_person WHERE person_id IS NOT NULL GROUP BY person_id HAVING count(*) > 1
        ) d
        WHERE t.person_id = d.person_id AND t.status IN ('nik', 'name') AND (d.has_linked OR t.row_number > d.first_row)
        """
    )
    c.execute("CREATE INDEX ON imp_link_person (row_number)")
    c.execute(
        f"""
        CREATE TEMP TABLE imp_link_family AS
        WITH f AS (
            SELECT lp.family_key, min(lp.ext_family) AS ext_family, min(lp.row_number) AS first_row,
                   (array_agg(lp.row_number ORDER BY s.relationship = %s DESC, lp.row_number))[1] AS head_row,
                   (array_agg(s.desil ORDER BY s.relationship = %s DESC, lp.row_number)
                       FILTER (WHERE s.desil IS NOT NULL))[1] AS desil,
                   (array_agg(s.no_kk ORDER BY s.relationship = %s DESC, lp.row_number)
                       FILTER (WHERE s.no_kk IS NOT NULL))[1] AS no_kk,
                   count(*) AS n_rows, count(*) FILTER (WHERE lp.status = 'unmatched') AS n_unmatched,
                   bool_and(s.region_code IS NOT NULL) AS has_region
            FROM imp_link_person lp JOIN {SECOND} s ON s.row_number = lp.row_number
            GROUP BY lp.family_key
        ), m AS (
            SELECT lp.family_key, count(DISTINCT p.household_id) AS n, min(p.household_id) AS household_id,
                   jsonb_agg(jsonb_build_object('row', lp.row_number, 'person', p.id, 'household', p.household_id)
                             ORDER BY lp.row_number) AS candidates
            FROM imp_link_person lp JOIN {person} p ON p.id = lp.person_id
            GROUP BY lp.family_key
        ), classified AS (
            SELECT f.*, hl.household_id AS linked_household, m.n, m.household_id AS matched_household,
                   coalesce(m.candidates, '[]'::jsonb) AS candidates,
                   CASE WHEN hl.id IS NOT NULL THEN 'linked' WHEN m.n = 1 THEN 'matched' WHEN m.n > 1 THEN 'conflict'
                        WHEN f.ext_family IS NOT NULL AND f.n_unmatched = f.n_rows AND f.has_region THEN 'new'
                        ELSE 'none' END AS status
            FROM f LEFT JOIN m ON m.family_key = f.family_key
            LEFT JOIN {hlink} hl ON hl.source_id = %s AND hl.external_id = f.ext_family
        )
        SELECT classified.*,
               CASE status WHEN 'linked' THEN linked_household WHEN 'matched' THEN matched_household
                           WHEN 'new' THEN nextval(%s) END AS household_id
        FROM classified
        """,  # noqa: S608
        [HEAD, HEAD, HEAD, ctx.source, pg_sequence(c, Household)],
    )
    c.execute(
        """
        UPDATE imp_link_person lp SET status = 'create', person_id = nextval(%s)
        FROM imp_link_family f WHERE f.family_key = lp.family_key AND f.status = 'new'
        """,
        [pg_sequence(c, Person)],
    )

    # New families: household (head row's desa and address), then the members.
    written = ["id", "desa_id", "province_code", "kabupaten_code", "kecamatan_code", "head_name", "no_kk"]
    written += ["address", "dusun", "rt", "rw", "desil"]
    defaults = default_columns(Household, written, ctx.now)
    insert = f"""
        INSERT INTO {household} AS t ({", ".join(written + [col for col, _ in defaults])})
        SELECT f.household_id, s.region_code, left(s.region_code, 2), left(s.region_code, 4), left(s.region_code, 6),
               s.name, f.no_kk, {", ".join(sql_value(DTKS, x) for x in ("address", "dusun", "rt", "rw"))},
               f.desil{"".join(", %s" for _ in defaults)}
        FROM imp_link_family f JOIN {SECOND} s ON s.row_number = f.head_row
        WHERE f.status = 'new'
    """  # noqa: S608
    c.execute(with_events(Household, "insert", insert), [*(v for _, v in defaults), "insert", ctx.history_id])
    person_fields = list(SECOND_PERSON_FIELDS)
    written = ["id", "household_id", *person_fields]
    defaults = default_columns(Person, written, ctx.now)
    insert = f"""
        INSERT INTO {person} AS t ({", ".join(written + [col for col, _ in defaults])})
        SELECT lp.person_id, f.household_id, {", ".join(sql_value(DTKS, x) for x in person_fields)}
               {"".join(", %s" for _ in defaults)}
        FROM imp_link_person lp JOIN imp_link_family f ON f.family_key = lp.family_key
        JOIN {SECOND} s ON s.row_number = lp.row_number
        WHERE lp.status = 'create'
    """  # noqa: S608
    c.execute(with_events(Person, "insert", insert), [*(v for _, v in defaults), "insert", ctx.history_id])

    # Blanks filled on linked/matched households and persons (never an overwrite), with their history.
    c.execute(
        f"""
        WITH filled AS (
            UPDATE {household} t SET desil = coalesce(t.desil, f.desil), no_kk = coalesce(t.no_kk, f.no_kk),
                   updated_at = %s
            FROM imp_link_family f
            WHERE f.status IN ('linked', 'matched') AND t.id = f.household_id
              AND ((t.desil IS NULL AND f.desil IS NOT NULL) OR (t.no_kk IS NULL AND f.no_kk IS NOT NULL))
            RETURNING t.*, f.family_key AS filled_key
        ), events AS ({event_insert(Household, "update", "filled")}
        ), kept AS (
            SELECT f.status = 'new' AS created,
                   x.filled_key IS NOT NULL OR (f.status = 'matched' AND f.ext_family IS NOT NULL) AS changed
            FROM imp_link_family f LEFT JOIN filled x ON x.filled_key = f.family_key
            WHERE f.status IN ('linked', 'matched', 'new')
        )
        SELECT count(*) FILTER (WHERE NOT created AND NOT changed), count(*) FILTER (WHERE created),
               count(*) FILTER (WHERE NOT created AND changed)
        FROM kept
        """,  # noqa: S608
        [ctx.now, "update", ctx.history_id],
    )
    fam_unchanged, fam_created, fam_updated = c.fetchone()
    c.execute(
        f"""
        WITH filled AS (
            UPDATE {person} t SET
                birth_place = CASE WHEN t.birth_place = '' THEN coalesce(s.birth_place, '') ELSE t.birth_place END,
                mother_name = CASE WHEN t.mother_name = '' THEN coalesce(s.mother_name, '') ELSE t.mother_name END,
                updated_at = %s
            FROM imp_link_person lp JOIN {SECOND} s ON s.row_number = lp.row_number
            WHERE lp.status IN ('linked', 'nik', 'name') AND t.id = lp.person_id
              AND ((t.birth_place = '' AND s.birth_place <> '') OR (t.mother_name = '' AND s.mother_name <> ''))
            RETURNING t.*, lp.row_number AS filled_row
        ), events AS ({event_insert(Person, "update", "filled")})
        SELECT lp.status, count(*), count(x.filled_row)
        FROM imp_link_person lp LEFT JOIN filled x ON x.filled_row = lp.row_number GROUP BY lp.status
        """,  # noqa: S608
        [ctx.now, "update", ctx.history_id],
    )
    statuses: dict[str, int] = {}
    for status, n, filled in c.fetchall():
        statuses[status] = int(n)
        if status == "linked":
            summary.persons.updated += int(filled)
            summary.persons.unchanged += int(n) - int(filled)
        elif status in ("nik", "name"):
            summary.persons.updated += int(n)
        elif status == "create":
            summary.persons.created += int(n)

    # Provenance links.
    pg_upsert_links(
        ctx,
        model=HouseholdSourceLink,
        owner="household_id",
        select=f"""
            SELECT %s, %s, f.ext_family, s.row_number, s.raw, %s, true, %s, f.household_id, f.desil
            FROM imp_link_family f JOIN {SECOND} s ON s.row_number = f.head_row
            WHERE f.status IN ('linked', 'matched', 'new') AND f.ext_family IS NOT NULL
        """,  # noqa: S608
        extra=["desil"],
    )
    pg_upsert_links(
        ctx,
        model=PersonSourceLink,
        owner="person_id",
        select=f"""
            SELECT %s, %s, lp.ext_person, s.row_number, s.raw, %s, true, %s, lp.person_id
            FROM imp_link_person lp JOIN {SECOND} s ON s.row_number = lp.row_number
            WHERE lp.status IN ('linked', 'nik', 'name', 'create')
        """,  # noqa: S608
    )

    # Review list: ambiguous and unmatched persons, conflicting families.
    LinkageReview.objects.filter(job=job).delete()
    c.execute(
        f"""
        INSERT INTO {LinkageReview._meta.db_table}
            (job_id, source_id, external_id, row_number, reason, candidates, raw, resolved)
        SELECT %s, %s, coalesce(lp.ext_person, ''), lp.row_number,
               CASE lp.status WHEN 'ambiguous' THEN %s ELSE %s END,
               CASE WHEN lp.status = 'ambiguous' THEN lp.candidates
                    WHEN f.household_id IS NOT NULL
                        THEN jsonb_build_array(jsonb_build_object('household', f.household_id))
                    ELSE '[]'::jsonb END,
               s.raw, false
        FROM imp_link_person lp JOIN imp_link_family f ON f.family_key = lp.family_key
        JOIN {SECOND} s ON s.row_number = lp.row_number
        WHERE lp.status IN ('ambiguous', 'unmatched')
        UNION ALL
        SELECT %s, %s, coalesce(f.ext_family, ''), f.first_row, %s, f.candidates, s.raw, false
        FROM imp_link_family f JOIN {SECOND} s ON s.row_number = f.first_row
        WHERE f.status = 'conflict'
        """,  # noqa: S608
        [job.pk, ctx.source, Reason.AMBIGUOUS, Reason.NO_MATCH, job.pk, ctx.source, Reason.CONFLICT],
    )
    c.execute("SELECT status, count(*) FROM imp_link_family GROUP BY status")
    families = {str(status): int(n) for status, n in c.fetchall()}
    summary.families.created += int(fam_created)
    summary.families.updated += int(fam_updated)
    summary.families.unchanged += int(fam_unchanged)
    _linkage_counts(summary, statuses, families)
    new_links = statuses.get("nik", 0) + statuses.get("name", 0) + statuses.get("create", 0)
    pg_analyze_if_grown(ctx, [Household, Person, HouseholdSourceLink, PersonSourceLink], new_links)
    summary.families.missing = pg_flag_missing(ctx, model=HouseholdSourceLink, stage_table=SECOND, column="ext_family")
    summary.persons.missing = pg_flag_missing(ctx, model=PersonSourceLink, stage_table=SECOND, column="ext_person")


# ---------------------------------------------------------------------------------------------------------------
# SQLite (ORM): the same decisions in Python


@dataclass
class _Person:
    row: StagedRow
    family_key: str
    status: str = "unmatched"
    person_id: int | None = None
    candidates: list[dict[str, int]] = field(default_factory=list)


@dataclass
class _Family:
    key: str
    ext_family: str | None
    members: list[_Person]
    status: str = "none"
    household_id: int | None = None
    candidates: list[dict[str, int]] = field(default_factory=list)

    def ordered(self) -> list[_Person]:
        """Head first (relationship KEPALA_KELUARGA), then file order: as ``ORDER BY`` in the SQL path."""
        return sorted(self.members, key=lambda m: (m.row.values.get("relationship") != HEAD, m.row.row_number))

    @property
    def head(self) -> _Person:
        return self.ordered()[0]

    def first(self, name: str) -> Any:
        """The first non-blank value of ``name`` among the members, head first."""
        for member in self.ordered():
            if member.row.values.get(name) is not None:
                return member.row.values[name]
        return None


def _chunks(items: Sequence[Any], size: int = checks.LOOKUP_BATCH) -> list[Sequence[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def orm_link(ctx: ApplyContext, staged: StagedFile, summary: ImportSummary, *, job: ImportJob) -> None:
    from households.importing.apply import ORM_BATCH, orm_flag_missing

    rows = [row for row in staged.rows if not row.rejected]
    persons = [_Person(row, row.values.get("ext_family") or f"#{row.row_number}") for row in rows]
    linked = dict(
        checks.lookup(
            (p.row.values["ext_person"] for p in persons),
            lambda batch: PersonSourceLink.objects.filter(source_id=ctx.source, external_id__in=batch).values_list(
                "external_id", "person_id"
            ),
        )
    )
    for p in persons:
        if p.row.values["ext_person"] in linked:
            p.status, p.person_id = "linked", linked[p.row.values["ext_person"]]

    by_nik: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for nik, pk, household_id in checks.lookup(
        (p.row.values.get("nik") for p in persons if p.status == "unmatched"),
        lambda batch: (
            Person.objects.filter(nik__in=batch, household__desa__code__startswith=ctx.scope.code)
            .exclude(household__status=choices.HouseholdStatus.MERGED)
            .values_list("nik", "id", "household_id")
        ),
    ):
        by_nik[str(nik)].append((pk, household_id))
    open_rows = [p for p in persons if p.status == "unmatched" and p.row.values.get("nik") not in by_nik]
    by_name: dict[tuple[str, Any, str], list[tuple[int, int]]] = defaultdict(list)
    desas = sorted({p.row.values["region_code"] for p in open_rows if p.row.values.get("region_code")})
    dates = sorted({p.row.values["birth_date"] for p in open_rows if p.row.values.get("birth_date")})
    for desa_batch in _chunks(desas):
        for date_batch in _chunks(dates):
            for pk, name, birth, household_id, desa in (
                Person.objects.filter(household__desa_id__in=desa_batch, birth_date__in=date_batch)
                .exclude(household__status=choices.HouseholdStatus.MERGED)
                .values_list("id", "name", "birth_date", "household_id", "household__desa_id")
            ):
                by_name[(normalize_name(name), birth, desa)].append((pk, household_id))
    for p in persons:
        if p.status != "unmatched":
            continue
        v = p.row.values
        found, how = by_nik.get(v.get("nik") or ""), "nik"
        if not found:
            key = (v.get("norm_name") or "", v.get("birth_date"), v.get("region_code") or "")
            found, how = (by_name.get(key) if all(key) else None), "name"
        if not found:
            continue
        p.candidates = [{"person": pk, "household": hid} for pk, hid in sorted(found)]
        if len(found) == 1:
            p.status, p.person_id = how, found[0][0]
        else:
            p.status = "ambiguous"
    claimed: dict[int, list[_Person]] = defaultdict(list)
    for p in persons:
        if p.person_id is not None:
            claimed[p.person_id].append(p)
    for claimants in claimed.values():
        has_linked = any(p.status == "linked" for p in claimants)
        fresh = sorted((p for p in claimants if p.status in ("nik", "name")), key=lambda p: p.row.row_number)
        for p in fresh[0 if has_linked else 1 :]:
            p.status, p.person_id = "ambiguous", None

    households_of = dict(
        checks.lookup(
            [str(p.person_id) for p in persons if p.person_id is not None],
            lambda batch: Person.objects.filter(pk__in=[int(x) for x in batch]).values_list("id", "household_id"),
        )
    )
    groups: dict[str, list[_Person]] = defaultdict(list)
    for p in persons:
        groups[p.family_key].append(p)
    families = [_Family(key, members[0].row.values.get("ext_family"), members) for key, members in groups.items()]
    hh_links = dict(
        checks.lookup(
            (f.ext_family for f in families if f.ext_family),
            lambda batch: HouseholdSourceLink.objects.filter(source_id=ctx.source, external_id__in=batch).values_list(
                "external_id", "household_id"
            ),
        )
    )
    for f in families:
        matched = sorted((m for m in f.members if m.person_id is not None), key=lambda m: m.row.row_number)
        households = {households_of[m.person_id] for m in matched if m.person_id is not None}
        f.candidates = [
            {"row": m.row.row_number, "person": m.person_id, "household": households_of[m.person_id]}
            for m in matched
            if m.person_id is not None
        ]
        if f.ext_family and f.ext_family in hh_links:
            f.status, f.household_id = "linked", hh_links[f.ext_family]
        elif len(households) == 1:
            f.status, f.household_id = "matched", households.pop()
        elif len(households) > 1:
            f.status = "conflict"
        elif (
            f.ext_family
            and all(m.status == "unmatched" for m in f.members)
            and all(m.row.values.get("region_code") for m in f.members)
        ):
            f.status = "new"

    # New families.
    new_families = [f for f in families if f.status == "new"]
    created_households = []
    for f in new_families:
        head = f.head.row.values
        code = head["region_code"]
        created_households.append(
            Household(
                desa_id=code,
                province_code=code[:2],
                kabupaten_code=code[:4],
                kecamatan_code=code[:6],
                head_name=head["name"],
                no_kk=f.first("no_kk"),
                address=head["address"],
                dusun=head["dusun"],
                rt=head["rt"],
                rw=head["rw"],
                desil=f.first("desil"),
            )
        )
    Household.objects.bulk_create(created_households, batch_size=ORM_BATCH)
    new_persons: list[tuple[_Person, Person]] = []
    for f, household in zip(new_families, created_households, strict=True):
        f.household_id = household.pk
        for m in f.members:
            v = m.row.values
            m.status = "create"
            new_persons.append((m, Person(household=household, **{x: v[x] for x in SECOND_PERSON_FIELDS})))
    Person.objects.bulk_create([p for _, p in new_persons], batch_size=ORM_BATCH)
    for m, person in new_persons:
        m.person_id = person.pk

    # Blanks filled.
    kept = [f for f in families if f.status in ("linked", "matched")]
    kept_households = Household.objects.in_bulk([f.household_id for f in kept if f.household_id])
    filled_households = []
    fam_unchanged = fam_updated = 0
    for f in kept:
        household = kept_households[f.household_id]
        desil, no_kk = f.first("desil"), f.first("no_kk")
        if (household.desil is None and desil is not None) or (household.no_kk is None and no_kk is not None):
            household.desil = household.desil if household.desil is not None else desil
            household.no_kk = household.no_kk if household.no_kk is not None else no_kk
            household.updated_at = ctx.now
            filled_households.append(household)
            fam_updated += 1
        elif f.status == "matched" and f.ext_family:  # a new household link
            fam_updated += 1
        else:
            fam_unchanged += 1
    Household.objects.bulk_update(filled_households, ["desil", "no_kk", "updated_at"], batch_size=ORM_BATCH)
    matched = [p for p in persons if p.status in MATCHED]
    registry = Person.objects.in_bulk([p.person_id for p in matched])
    filled_persons = []
    for p in matched:
        person, v = registry[p.person_id], p.row.values
        if (person.birth_place == "" and v["birth_place"] != "") or (
            person.mother_name == "" and v["mother_name"] != ""
        ):
            person.birth_place = person.birth_place or v["birth_place"]
            person.mother_name = person.mother_name or v["mother_name"]
            person.updated_at = ctx.now
            filled_persons.append(person)
            summary.persons.updated += 1
        elif p.status == "linked":
            summary.persons.unchanged += 1
        else:
            summary.persons.updated += 1
    Person.objects.bulk_update(filled_persons, ["birth_place", "mother_name", "updated_at"], batch_size=ORM_BATCH)
    summary.persons.created += len(new_persons)

    _orm_links(ctx, families, persons)
    _orm_reviews(ctx, job, families, persons)
    statuses: dict[str, int] = defaultdict(int)
    for p in persons:
        statuses[p.status] += 1
    family_statuses: dict[str, int] = defaultdict(int)
    for f in families:
        family_statuses[f.status] += 1
    summary.families.created += len(new_families)
    summary.families.updated += fam_updated
    summary.families.unchanged += fam_unchanged
    _linkage_counts(summary, statuses, family_statuses)
    summary.families.missing = orm_flag_missing(
        ctx,
        model=HouseholdSourceLink,
        present={r.values["ext_family"] for r in staged.rows if r.values.get("ext_family")},
    )
    summary.persons.missing = orm_flag_missing(
        ctx, model=PersonSourceLink, present={r.values["ext_person"] for r in staged.rows if r.values.get("ext_person")}
    )


def _orm_links(ctx: ApplyContext, families: list[_Family], persons: list[_Person]) -> None:
    from households.importing.apply import orm_upsert_links

    orm_upsert_links(
        ctx,
        HouseholdSourceLink,
        "household_id",
        {
            f.ext_family: (f.head.row, f.household_id, {"desil": f.first("desil")})
            for f in families
            if f.status in ("linked", "matched", "new") and f.ext_family and f.household_id
        },
    )
    orm_upsert_links(
        ctx,
        PersonSourceLink,
        "person_id",
        {
            p.row.values["ext_person"]: (p.row, p.person_id, {})
            for p in persons
            if p.status in (*MATCHED, "create") and p.person_id
        },
    )


def _orm_reviews(ctx: ApplyContext, job: ImportJob, families: list[_Family], persons: list[_Person]) -> None:
    from households.importing.apply import ORM_BATCH

    LinkageReview.objects.filter(job=job).delete()
    family_of = {p.family_key: f for f in families for p in f.members}
    reviews = []
    for p in sorted(persons, key=lambda p: p.row.row_number):
        if p.status not in ("ambiguous", "unmatched"):
            continue
        household = family_of[p.family_key].household_id
        if p.status == "ambiguous":
            reason, candidates = Reason.AMBIGUOUS, p.candidates
        else:
            reason, candidates = Reason.NO_MATCH, ([{"household": household}] if household else [])
        reviews.append(
            LinkageReview(
                job=job,
                source_id=ctx.source,
                external_id=p.row.values.get("ext_person") or "",
                row_number=p.row.row_number,
                reason=reason,
                candidates=candidates,
                raw=p.row.raw,
            )
        )
    for f in families:
        if f.status == "conflict":
            first = min(f.members, key=lambda m: m.row.row_number).row
            reviews.append(
                LinkageReview(
                    job=job,
                    source_id=ctx.source,
                    external_id=f.ext_family or "",
                    row_number=first.row_number,
                    reason=Reason.CONFLICT,
                    candidates=f.candidates,
                    raw=first.raw,
                )
            )
    LinkageReview.objects.bulk_create(reviews, batch_size=ORM_BATCH)
