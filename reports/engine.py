"""The coverage-gap engine: set-based SQL over the registry, identical on PostgreSQL and SQLite.

One computation (``gap_compute``) for a year and a region ('' = everything):

1. ``GapHouseholdFact``: one row per active household of the region, from one INSERT … SELECT that
   aggregates the year's delivered interventions (kinds, clusters, programs per kind → overlap), the
   household's persons (productive-age members per need rule, NIK problems, moved members) and its source
   links (present in the latest snapshot), then applies the need rules (data: ``NeedRule``).
2. ``GapSummary``: three GROUP BY queries over those facts per desa, summed in Python to kecamatan,
   kabupaten/kota and province, so every level adds up exactly. Graduations are counted per desa from
   ``Graduation``. Ancestors above the computed region are re-summed from their stored children.

Everything runs inside the caller's transaction: a failure leaves the previous figures in place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from households.choices import (
    UNFIT_FLOOR_TYPES,
    BuildingQuality,
    HouseholdStatus,
    NikStatus,
    PersonStatus,
    Relationship,
)
from programs.models import AssistanceKind, InterventionStatus, ProgramCluster
from reports.models import GapRun, GapSummary, NeedCondition, NeedRule

REASON_FIELDS = ("no_nik", "nik_unverified", "not_in_latest", "member_moved")
_LEVEL_OF_LENGTH = {0: 0, 2: 1, 4: 2, 6: 3, 10: 4}
_COLUMN_OF_LENGTH = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}
_LENGTH_OF_LEVEL = {1: 2, 2: 4, 3: 6, 4: 10}
_INT_FIELDS = (
    "households",
    "desil1",
    "desil1_uncovered",
    "desil1_4",
    "desil1_4_uncovered",
    "extreme",
    "extreme_uncovered",
    "covered",
    "overlap",
    "graduated",
    "unmet_any",
)
_DICT_FIELDS = ("by_desil", "needs", "unmet_need", "covered_by_kind", "covered_by_cluster", "convergence")


def reference_date(year: int, today: dt.date | None = None) -> dt.date:
    """The day ages are computed on: 31 December of the year, or today while the year is running."""
    today = today or timezone.localdate()
    return min(dt.date(year, 12, 31), today) if year >= today.year else dt.date(year, 12, 31)


def birth_window(ref: dt.date, min_age: int, max_age: int) -> tuple[dt.date, dt.date]:
    """(exclusive lower, inclusive upper) birth dates of persons aged min_age…max_age on ``ref``."""

    def years_before(years: int) -> dt.date:
        try:
            return ref.replace(year=ref.year - years)
        except ValueError:  # 29 February
            return ref.replace(year=ref.year - years, day=28)

    return years_before(max_age + 1), years_before(min_age)


def split_codes(value: str) -> list[str]:
    return [c for c in value.split(",") if c]


def region_level(code: str) -> int:
    return _LEVEL_OF_LENGTH[len(code)]


@dataclass
class RegionFigures:
    """Summed figures of one region; ``add`` merges a child or one grouped row."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_INT_FIELDS, 0))
    maps: dict[str, dict[str, int]] = field(default_factory=lambda: {name: {} for name in _DICT_FIELDS})

    def bump(self, name: str, n: int) -> None:
        self.counts[name] += n

    def bump_map(self, name: str, key: str, n: int) -> None:
        target = self.maps[name]
        target[key] = target.get(key, 0) + n

    def add(self, other: RegionFigures) -> None:
        for name, n in other.counts.items():
            self.counts[name] += n
        for name, values in other.maps.items():
            for key, n in values.items():
                self.bump_map(name, key, n)


def _code_concat(column: str, items: Iterable[tuple[int, str]]) -> tuple[str, list[Any]]:
    """``MAX(CASE WHEN column = id THEN 'code,' …) || …`` over a reference list sorted by code: the grouped
    rows' codes as ``a,b,`` in code order, without string_agg/group_concat (whose order SQLite < 3.44 does
    not guarantee)."""
    parts: list[str] = []
    params: list[Any] = []
    for pk, code in sorted(items, key=lambda item: item[1]):
        parts.append(f"MAX(CASE WHEN {column} = %s THEN %s ELSE '' END)")
        params += [pk, f"{code},"]
    return (" || ".join(parts) or "''"), params


def _contains_template() -> str:
    """``{0}`` contains a bound string: the test for one code in a ``,a,b,`` list."""
    return "strpos({0}, %s) > 0" if connection.vendor == "postgresql" else "instr({0}, %s) > 0"


def _region_filter(alias: str, region_code: str) -> tuple[str, list[Any]]:
    if not region_code:
        return "1 = 1", []
    return f"{alias}.{_COLUMN_OF_LENGTH[len(region_code)]} = %s", [region_code]


# Fact columns an upsert compares and rewrites. Unchanged households are not written at all (no dead rows, no
# index churn), so their ``run_id`` stays the run that last changed them.
_FACT_VALUES = (
    "province_code", "kabupaten_code", "kecamatan_code", "desa_id", "desil", "extreme_poor", "covered",
    "program_count", "overlap", "kinds", "clusters", "needs", "unmet_needs", "no_nik", "nik_unverified",
    "not_in_latest", "member_moved",
)  # fmt: skip
_UPDATE_SET = ", ".join(f"{c} = excluded.{c}" for c in ("run_id", *_FACT_VALUES))


def _changed() -> str:
    """Any fact column differs (NULL-safe): ``IS DISTINCT FROM`` on PostgreSQL, ``IS NOT`` on SQLite."""
    op = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    return " OR ".join(f"reports_gaphouseholdfact.{c} {op} excluded.{c}" for c in _FACT_VALUES)


def _facts_sql(*, year: int, region_code: str, run_id: int, rules: list[NeedRule]) -> tuple[str, list[Any]]:
    """The INSERT … SELECT that writes one fact row per active household of the region."""
    ref = reference_date(year)
    region_sql, region_params = _region_filter("h", region_code)
    # A whole-registry run reads every row anyway: no semi-join against the households then.
    in_region = f"SELECT h.id FROM households_household h WHERE {region_sql}"
    of_region = f"household_id IN ({in_region})" if region_code else "1 = 1"
    sub_params = region_params if region_code else []
    params: list[Any] = []

    # Per person rule: 1 when the household has an active member of the rule's age, not at school.
    person_columns: list[str] = []
    person_params: list[Any] = []
    person_rule_ids: list[int] = []
    for rule in rules:
        if rule.condition not in (NeedCondition.PRODUCTIVE_MEMBER, NeedCondition.NO_PRODUCTIVE_MEMBER):
            continue
        low, high = birth_window(ref, rule.min_age, rule.max_age)
        school = rule.school_occupation_list
        at_school = f"AND UPPER(COALESCE(occupation, '')) NOT IN ({', '.join(['%s'] * len(school))}) " if school else ""
        person_columns.append(
            f"MAX(CASE WHEN status = %s AND birth_date > %s AND birth_date <= %s {at_school}"
            f"THEN 1 ELSE 0 END) AS r_{rule.pk}"
        )
        person_params += [PersonStatus.ACTIVE, low, high, *school]
        person_rule_ids.append(rule.pk)

    # Code lists in code order, identical on both databases: one MAX(CASE …) per code of the reference list.
    kind_items = list(AssistanceKind.objects.values_list("pk", "code"))
    kinds_concat, kinds_params = _code_concat("kind_id", kind_items)
    clusters_concat, clusters_params = _code_concat("cluster_id", ProgramCluster.objects.values_list("pk", "code"))
    # Programs per assistance kind (iv rows are distinct household × program, a program has one kind).
    per_kind = [f"SUM(CASE WHEN kind_id = {int(pk)} THEN 1 ELSE 0 END)" for pk, _code in kind_items]
    if len(per_kind) > 1:
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"  # SQLite's scalar max(a, b, …)
        max_per_kind = f"{greatest}({', '.join(per_kind)})"
    else:
        max_per_kind = per_kind[0] if per_kind else "0"
    sql = f"""
        WITH deliveries AS (
            SELECT iv.hid, {kinds_concat} AS kinds, {clusters_concat} AS clusters, COUNT(*) AS program_count,
                   {max_per_kind} AS max_programs
            FROM (
                SELECT DISTINCT i.household_id AS hid, i.program_id AS program_id,
                       p.assistance_kind_id AS kind_id, p.cluster_id AS cluster_id
                FROM programs_intervention i
                JOIN programs_program p ON p.id = i.program_id
                WHERE i.status = %s AND i.period_year = %s AND {of_region.replace("household_id", "i.household_id")}
            ) iv
            GROUP BY iv.hid
        ),
        people AS (
            SELECT household_id AS hid,
                   SUM(CASE WHEN status = %s THEN 1 ELSE 0 END) AS n_active,
                   MAX(CASE WHEN relationship = %s AND nik IS NOT NULL THEN 1 ELSE 0 END) AS head_has_nik,
                   MAX(CASE WHEN nik_status IN (%s, %s) THEN 1 ELSE 0 END) AS nik_unverified,
                   MAX(CASE WHEN status = %s THEN 1 ELSE 0 END) AS member_moved
                   {"".join(", " + c for c in person_columns)}
            FROM households_person
            WHERE {of_region}
            GROUP BY household_id
        ),
        links AS (
            SELECT household_id AS hid, MAX(CASE WHEN is_present THEN 1 ELSE 0 END) AS present
            FROM households_householdsourcelink
            WHERE {of_region}
            GROUP BY household_id
        )
    """
    params += [*kinds_params, *clusters_params, InterventionStatus.DELIVERED, year, *sub_params]
    params += [PersonStatus.ACTIVE, Relationship.HEAD, NikStatus.NEEDS_VERIFICATION, NikStatus.INVALID]
    params += [PersonStatus.MOVED, *person_params, *sub_params, *sub_params]

    # Need conditions over the base row (columns of the subquery ``b``).
    unfit = (
        f"(b.floor_type IN ({', '.join(['%s'] * len(UNFIT_FLOOR_TYPES))}) "
        "OR b.roof_quality = %s OR b.wall_quality = %s OR b.floor_quality = %s)"
    )
    unfit_params: list[Any] = [*sorted(str(t) for t in UNFIT_FLOOR_TYPES), *[BuildingQuality.POOR] * 3]
    need_parts: list[str] = []
    need_params: list[Any] = []
    unmet_parts: list[str] = []
    unmet_params: list[Any] = []
    contains = _contains_template()
    for rule in rules:
        cond_params: list[Any]
        if rule.condition == NeedCondition.PRODUCTIVE_MEMBER:
            condition, cond_params = f"b.r_{rule.pk} = 1", []
        elif rule.condition == NeedCondition.NO_PRODUCTIVE_MEMBER:
            condition, cond_params = f"(b.n_active > 0 AND b.r_{rule.pk} = 0)", []
        else:
            condition, cond_params = unfit, list(unfit_params)
        kinds = sorted(k.code for k in rule.assistance_kinds.all())
        met = " OR ".join([contains.format("b.kinds")] * len(kinds)) or "1 = 0"
        need_parts.append(f"CASE WHEN {condition} THEN %s ELSE '' END")
        need_params += [*cond_params, f"{rule.code},"]
        unmet_parts.append(f"CASE WHEN {condition} AND NOT ({met}) THEN %s ELSE '' END")
        unmet_params += [*cond_params, *[f",{k}," for k in kinds], f"{rule.code},"]
    needs_expr = " || ".join(need_parts) or "''"
    unmet_expr = " || ".join(unmet_parts) or "''"
    rule_columns = "".join(f", COALESCE(pe.r_{pk}, 0) AS r_{pk}" for pk in person_rule_ids)

    overlap_min = int(settings.GAP_OVERLAP_MIN_PROGRAMS)
    sql += f"""
        INSERT INTO reports_gaphouseholdfact (
            year, household_id, run_id, province_code, kabupaten_code, kecamatan_code, desa_id, desil,
            extreme_poor, covered, program_count, overlap, kinds, clusters, needs, unmet_needs,
            no_nik, nik_unverified, not_in_latest, member_moved
        )
        SELECT %s AS year, n.id AS household_id, %s AS run_id, n.province_code, n.kabupaten_code,
               n.kecamatan_code, n.desa_id, n.desil, n.extreme_poor, n.covered, n.program_count, n.overlap,
               n.kinds, n.clusters,
               CASE WHEN n.needs = '' THEN '' ELSE ',' || n.needs END AS needs,
               CASE WHEN n.unmet = '' THEN '' ELSE ',' || n.unmet END AS unmet_needs,
               n.no_nik, n.nik_unverified, n.not_in_latest, n.member_moved
        FROM (
            SELECT b.*, {needs_expr} AS needs, {unmet_expr} AS unmet
            FROM (
                SELECT h.id, h.province_code, h.kabupaten_code, h.kecamatan_code, h.desa_id, h.desil,
                       h.floor_type, h.roof_quality, h.wall_quality, h.floor_quality,
                       CASE WHEN h.extreme_poverty IS TRUE THEN TRUE ELSE FALSE END AS extreme_poor,
                       CASE WHEN d.hid IS NULL THEN FALSE ELSE TRUE END AS covered,
                       COALESCE(d.program_count, 0) AS program_count,
                       CASE WHEN COALESCE(d.max_programs, 0) >= %s THEN TRUE ELSE FALSE END AS overlap,
                       CASE WHEN d.kinds IS NULL THEN '' ELSE ',' || d.kinds END AS kinds,
                       CASE WHEN d.clusters IS NULL THEN '' ELSE ',' || d.clusters END AS clusters,
                       COALESCE(pe.n_active, 0) AS n_active,
                       CASE WHEN COALESCE(pe.head_has_nik, 0) = 1 THEN FALSE ELSE TRUE END AS no_nik,
                       CASE WHEN COALESCE(pe.nik_unverified, 0) = 1 THEN TRUE ELSE FALSE END AS nik_unverified,
                       CASE WHEN li.hid IS NOT NULL AND li.present = 0 THEN TRUE ELSE FALSE END AS not_in_latest,
                       CASE WHEN COALESCE(pe.member_moved, 0) = 1 THEN TRUE ELSE FALSE END AS member_moved
                       {rule_columns}
                FROM households_household h
                LEFT JOIN deliveries d ON d.hid = h.id
                LEFT JOIN people pe ON pe.hid = h.id
                LEFT JOIN links li ON li.hid = h.id
                WHERE h.status = %s AND {region_sql}
            ) b
        ) n
        WHERE 1 = 1
        ON CONFLICT (household_id, year) DO UPDATE SET {_UPDATE_SET}
        WHERE {_changed()}
    """
    params += [year, run_id, *need_params, *unmet_params, overlap_min, HouseholdStatus.ACTIVE, *region_params]
    return sql, params


def _delete_scope(table: str, year: int, region_code: str) -> None:
    """Summaries: delete the year's rows of the region (by code prefix); they are few and rewritten."""
    with connection.cursor() as cursor:
        if not region_code:
            cursor.execute(f"DELETE FROM {table} WHERE year = %s", [year])
        else:
            cursor.execute(f"DELETE FROM {table} WHERE year = %s AND region_code LIKE %s", [year, f"{region_code}%"])


def _delete_stale_facts(year: int, region_code: str) -> None:
    """Facts of the region whose household is no longer an active household of the region (graduated,
    moved away, merged, deleted). A household that moved in is rewritten by the upsert."""
    region_sql, region_params = _region_filter("h", region_code)
    fact_region_sql, fact_params = _region_filter("f", region_code)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM reports_gaphouseholdfact WHERE id IN (
                SELECT f.id FROM reports_gaphouseholdfact f
                WHERE f.year = %s AND {fact_region_sql} AND NOT EXISTS (
                    SELECT 1 FROM households_household h
                    WHERE h.id = f.household_id AND h.status = %s AND {region_sql}
                )
            )
            """,
            [year, *fact_params, HouseholdStatus.ACTIVE, *region_params],
        )


# Tables the facts statement reads or writes; their planner statistics must be current before it runs.
_ENGINE_TABLES = (
    "households_household",
    "households_person",
    "households_householdsourcelink",
    "programs_intervention",
    "households_graduation",
    "reports_gaphouseholdfact",
)


def prepare_session() -> None:
    """PostgreSQL session settings for one computation (inside its transaction) and fresh statistics.

    A table filled a moment ago by a bulk import still looks empty to the planner until autovacuum analyses
    it, and a plan built on that (nested loops over "one row") takes minutes instead of seconds; so tables
    changed by more than a tenth since their last ANALYZE are analysed first (sampled: well under a second
    at a million rows).
    """
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        # JIT without inlining/optimisation: compiled expressions (the per-kind CASEs) at a small compile cost;
        # full JIT spent 3-6 s compiling to save less (measured at 1 M households).
        cursor.execute("SET LOCAL jit_inline_above_cost = -1")
        cursor.execute("SET LOCAL jit_optimize_above_cost = -1")
        cursor.execute("SET LOCAL work_mem = %s", [settings.GAP_WORK_MEM])
        cursor.execute(
            """
            SELECT relname FROM pg_stat_user_tables
            WHERE relname = ANY(%s) AND (last_analyze IS NULL AND last_autoanalyze IS NULL
                  OR n_mod_since_analyze > GREATEST(1000, n_live_tup / 10))
            """,
            [list(_ENGINE_TABLES)],
        )
        for (table,) in cursor.fetchall():
            if table in _ENGINE_TABLES:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")


def vacuum_if_bloated() -> None:
    """After a computation committed (PostgreSQL, outside a transaction): vacuum the facts when changed rows
    left many dead versions, else analyse them when many changed, so the next scans and list pages stay fast
    even where autovacuum is off."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_dead_tup, n_live_tup FROM pg_stat_user_tables WHERE relname = 'reports_gaphouseholdfact'"
        )
        row = cursor.fetchone()
        if row is not None and row[0] > max(10_000, row[1] // 5):
            cursor.execute("VACUUM (ANALYZE) reports_gaphouseholdfact")
            return
        # The lists read these facts next: plan them on current statistics.
        cursor.execute(
            "SELECT 1 FROM pg_stat_user_tables WHERE relname = 'reports_gaphouseholdfact' "
            "AND n_mod_since_analyze > GREATEST(1000, n_live_tup / 10)"
        )
        if cursor.fetchone() is not None:
            cursor.execute("ANALYZE reports_gaphouseholdfact")


def compute_facts(*, year: int, region_code: str, run: GapRun) -> None:
    """Bring the facts of the region's households for the year up to date: stale rows deleted, the rest
    upserted (only changed rows are written)."""
    rules = list(NeedRule.objects.filter(is_active=True).prefetch_related("assistance_kinds").order_by("sort_order"))
    _delete_stale_facts(year, region_code)
    sql, params = _facts_sql(year=year, region_code=region_code, run_id=run.pk, rules=rules)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _desa_figures(*, year: int, region_code: str) -> dict[str, RegionFigures]:
    """Per desa figures from the facts (three grouped scans) and the year's graduations."""
    region_sql, region_params = _region_filter("f", region_code)
    figures: dict[str, RegionFigures] = defaultdict(RegionFigures)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT f.desa_id, f.desil, f.extreme_poor, f.covered, f.overlap,
                   CASE WHEN f.unmet_needs = '' THEN 0 ELSE 1 END, COUNT(*)
            FROM reports_gaphouseholdfact f
            WHERE f.year = %s AND {region_sql}
            GROUP BY f.desa_id, f.desil, f.extreme_poor, f.covered, f.overlap,
                     CASE WHEN f.unmet_needs = '' THEN 0 ELSE 1 END
            """,
            [year, *region_params],
        )
        for desa, desil, extreme, covered, overlap, unmet, n in cursor.fetchall():
            fig = figures[desa]
            fig.bump("households", n)
            fig.bump_map("by_desil", str(desil or ""), n)
            if desil == 1:
                fig.bump("desil1", n)
                if not covered:
                    fig.bump("desil1_uncovered", n)
            if desil is not None and 1 <= desil <= 4:
                fig.bump("desil1_4", n)
                if not covered:
                    fig.bump("desil1_4_uncovered", n)
            if extreme:
                fig.bump("extreme", n)
                if not covered:
                    fig.bump("extreme_uncovered", n)
            if covered:
                fig.bump("covered", n)
            if overlap:
                fig.bump("overlap", n)
            if unmet:
                fig.bump("unmet_any", n)
        cursor.execute(
            f"""
            SELECT f.desa_id, f.needs, f.unmet_needs, COUNT(*) FROM reports_gaphouseholdfact f
            WHERE f.year = %s AND {region_sql} AND f.needs <> ''
            GROUP BY f.desa_id, f.needs, f.unmet_needs
            """,
            [year, *region_params],
        )
        for desa, needs, unmet, n in cursor.fetchall():
            fig = figures[desa]
            for code in split_codes(needs):
                fig.bump_map("needs", code, n)
            for code in split_codes(unmet):
                fig.bump_map("unmet_need", code, n)
        cursor.execute(
            f"""
            SELECT f.desa_id, f.kinds, f.clusters, COUNT(*) FROM reports_gaphouseholdfact f
            WHERE f.year = %s AND {region_sql} AND f.covered
            GROUP BY f.desa_id, f.kinds, f.clusters
            """,
            [year, *region_params],
        )
        for desa, kinds, clusters, n in cursor.fetchall():
            fig = figures[desa]
            kind_codes = split_codes(kinds)
            for code in kind_codes:
                fig.bump_map("covered_by_kind", code, n)
            for code in split_codes(clusters):
                fig.bump_map("covered_by_cluster", code, n)
            fig.bump_map("convergence", "+".join(kind_codes), n)
        # Graduations of the year (not revoked), counted where the household lives now.
        household_region, household_params = _region_filter("h", region_code)
        cursor.execute(
            f"""
            SELECT h.desa_id, COUNT(DISTINCT g.household_id)
            FROM households_graduation g JOIN households_household h ON h.id = g.household_id
            WHERE g.graduated_on >= %s AND g.graduated_on <= %s AND g.revoked_on IS NULL AND {household_region}
            GROUP BY h.desa_id
            """,
            [dt.date(year, 1, 1), dt.date(year, 12, 31), *household_params],
        )
        for desa, n in cursor.fetchall():
            figures[desa].bump("graduated", n)
    return figures


def _summary_row(year: int, code: str, figures: RegionFigures, run: GapRun) -> GapSummary:
    level = region_level(code)
    parent = code[: _LENGTH_OF_LEVEL[level - 1]] if level > 1 else ""
    return GapSummary(
        year=year, region_code=code, level=level, parent_code=parent, run=run, **figures.counts, **figures.maps
    )


def figures_of(row: GapSummary) -> RegionFigures:
    figures = RegionFigures()
    for name in _INT_FIELDS:
        figures.counts[name] = getattr(row, name)
    for name in _DICT_FIELDS:
        figures.maps[name] = {str(k): int(v) for k, v in getattr(row, name).items()}
    return figures


def compute_summaries(*, year: int, region_code: str, run: GapRun) -> RegionFigures:
    """Replace the summary rows of the region (all its levels) and re-sum its ancestors; returns the
    figures of the computed region (or of everything)."""
    per_desa = _desa_figures(year=year, region_code=region_code)
    top_level = region_level(region_code)
    by_region: dict[str, RegionFigures] = {}
    for desa, fig in per_desa.items():
        for level in range(max(top_level, 1), 5):
            code = desa[: _LENGTH_OF_LEVEL[level]]
            by_region.setdefault(code, RegionFigures()).add(fig)
    if region_code and region_code not in by_region:
        by_region[region_code] = RegionFigures()  # the region has no active household left
    _delete_scope("reports_gapsummary", year, region_code)
    GapSummary.objects.bulk_create(
        [_summary_row(year, code, fig, run) for code, fig in sorted(by_region.items())], batch_size=2000
    )
    # Ancestors of a partial computation: sum of their stored children.
    ancestors = [region_code[: _LENGTH_OF_LEVEL[level]] for level in range(top_level - 1, 0, -1)]
    for code in ancestors:
        total = RegionFigures()
        for child in GapSummary.objects.filter(year=year, parent_code=code):
            total.add(figures_of(child))
        GapSummary.objects.filter(year=year, region_code=code).delete()
        _summary_row(year, code, total, run).save()
    if region_code:
        return by_region[region_code]
    total = RegionFigures()
    for code, fig in by_region.items():
        if len(code) == 2:
            total.add(fig)
    return total
