"""Reads of programs and interventions. Every one starts from ``for_user`` (or ``for_aggregates``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

from households.models import Household
from programs.models import FundingSource, Intervention, InterventionStatus, Program, ProgramRealisation
from tkpk.models import Region


@dataclass(frozen=True)
class ProgramFilters:
    year: int | None = None
    organization_id: int | None = None
    cluster_id: int | None = None
    strategy_id: int | None = None
    assistance_kind_id: int | None = None
    funding_source: str = ""
    query: str = ""


def _realisation_subqueries() -> dict[str, Any]:
    """Households reached and value realised per program, read from the precomputed realisation rows
    (``ProgramRealisation``, totals row of delivered interventions): one indexed row per program."""
    total = ProgramRealisation.objects.filter(
        program=OuterRef("pk"), kecamatan_code="", status=InterventionStatus.DELIVERED
    )
    return {
        "reached": Coalesce(Subquery(total.values("households")[:1], output_field=IntegerField()), Value(0)),
        "realised_value": Coalesce(
            Subquery(total.values("value")[:1], output_field=DecimalField(max_digits=18, decimal_places=0)),
            Value(Decimal(0)),
        ),
    }


def program_list(*, user: Any, filters: ProgramFilters | None = None) -> QuerySet[Program]:
    """Programs the user may see, with realisation (households reached, value realised) annotated."""
    filters = filters or ProgramFilters()
    qs = Program.objects.for_user(user).select_related(
        "organization", "cluster", "strategy", "assistance_kind", "region"
    )
    if filters.year:
        qs = qs.filter(year=filters.year)
    if filters.organization_id:
        qs = qs.filter(organization_id=filters.organization_id)
    if filters.cluster_id:
        qs = qs.filter(cluster_id=filters.cluster_id)
    if filters.strategy_id:
        qs = qs.filter(strategy_id=filters.strategy_id)
    if filters.assistance_kind_id:
        qs = qs.filter(assistance_kind_id=filters.assistance_kind_id)
    if filters.funding_source:
        qs = qs.filter(funding_source=filters.funding_source)
    if filters.query:
        qs = qs.filter(Q(name__icontains=filters.query) | Q(code__icontains=filters.query))
    return qs.annotate(**_realisation_subqueries()).order_by("-year", "organization__name", "code")


@dataclass(frozen=True)
class HouseholdReferences:
    """Households in scope per reference: by internal id, by a source's ID Keluarga, by a member's NIK.
    A reference may match several households (an ID Keluarga in two sources, a NIK on two cards)."""

    by_id: dict[int, Household]
    by_id_keluarga: dict[str, list[Household]]
    by_nik: dict[str, list[Household]]


def households_by_reference(
    *, user: Any, ids: Collection[int] = (), id_keluarga: Collection[str] = (), niks: Collection[str] = ()
) -> HouseholdReferences:
    """Resolve a batch of household references in the user's scope with one query (a UNION of the three
    lookups, each row carrying the reference it answers), never one query per reference."""
    from django.db.models import CharField, F
    from django.db.models.functions import Cast

    scoped = Household.objects.for_user(user).order_by()
    text: Any = CharField(max_length=64)
    parts = []
    if ids:
        parts.append(
            scoped.filter(pk__in=list(ids)).annotate(ref_kind=Value("id", output_field=text), ref_key=Cast("pk", text))
        )
    if id_keluarga:
        parts.append(
            scoped.filter(source_links__external_id__in=list(id_keluarga)).annotate(
                ref_kind=Value("id_keluarga", output_field=text), ref_key=F("source_links__external_id")
            )
        )
    if niks:
        parts.append(
            scoped.filter(members__nik__in=list(niks)).annotate(
                ref_kind=Value("nik", output_field=text), ref_key=F("members__nik")
            )
        )
    found = HouseholdReferences(by_id={}, by_id_keluarga={}, by_nik={})
    if not parts:
        return found
    rows = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    for household in rows:
        kind, key = household.ref_kind, household.ref_key
        if kind == "id":
            found.by_id[household.pk] = household
            continue
        matches = (found.by_id_keluarga if kind == "id_keluarga" else found.by_nik).setdefault(key, [])
        if all(h.pk != household.pk for h in matches):
            matches.append(household)
    return found


@dataclass(frozen=True)
class KecamatanRealisation:
    code: str
    name: str
    households: int
    value: Decimal
    interventions: int


def program_interventions(
    *, user: Any, program: Program, status: str = "", desa: str = "", query: str = ""
) -> QuerySet[Intervention]:
    """The program's interventions the user may see, newest first, with what a list row shows."""
    qs = (
        Intervention.objects.for_user(user)
        .filter(program=program)
        .select_related("household", "household__desa", "entered_by")
    )
    if status:
        qs = qs.filter(status=status)
    if desa:
        qs = qs.filter(desa_id__startswith=desa)
    if query:
        qs = qs.filter(household__head_name__icontains=query)
    return qs.order_by("-delivered_on", "-id")


def household_deliveries(*, user: Any, household: Household, year: int | None = None) -> QuerySet[Intervention]:
    """Everything a household the user may see received, from any program and owner: officers must see
    overlap with other agencies' and partners' programs before they deliver."""
    if not Household.objects.for_user(user).filter(pk=household.pk).exists():
        return Intervention.objects.none()
    qs = Intervention.objects.filter(household=household).select_related(
        "program", "program__organization", "program__assistance_kind"
    )
    if year:
        qs = qs.filter(period_year=year)
    return qs.order_by("-delivered_on", "-id")


@dataclass(frozen=True)
class OverviewRow:
    key: str
    label: str
    programs: int
    target_households: int
    reached: int
    budget: Decimal
    realised_value: Decimal


OVERVIEW_DIMENSIONS = {
    "cluster": ("cluster_id", "cluster__name"),
    "strategy": ("strategy_id", "strategy__name"),
    "organization": ("organization_id", "organization__name"),
    "funding_source": ("funding_source", "funding_source"),
    "assistance_kind": ("assistance_kind_id", "assistance_kind__name"),
}


def program_overview(*, user: Any, year: int, dimension: str) -> list[OverviewRow]:
    """Programs of the user's area grouped by one dimension: count, target, reached, budget, realised.

    Households reached are summed per program, like the targets they are compared with (a household helped by
    two programs of one cluster counts twice there); distinct coverage is the gap engine's figure."""
    key_field, label_field = OVERVIEW_DIMENSIONS[dimension]
    programs = Program.objects.for_aggregates(user).filter(year=year)
    program_rows = (
        programs.order_by()
        .values(key_field, label_field)
        .annotate(n=Count("id"), target=Sum("target_households"), budget=Sum("budget"))
    )
    delivered = (
        ProgramRealisation.objects.filter(
            program__in=programs.values("pk"), kecamatan_code="", status=InterventionStatus.DELIVERED
        )
        .order_by()
        .values(f"program__{key_field}")
        .annotate(reached=Sum("households"), value=Sum("value"))
    )
    reached = {r[f"program__{key_field}"]: r for r in delivered}
    labels = dict(FundingSource.choices)
    result = []
    for row in program_rows:
        key = row[key_field]
        label = str(labels.get(key, key)) if dimension == "funding_source" else str(row[label_field])
        realised = reached.get(key, {})
        result.append(
            OverviewRow(
                key=str(key),
                label=label,
                programs=row["n"],
                target_households=row["target"] or 0,
                reached=realised.get("reached", 0),
                budget=row["budget"] or Decimal(0),
                realised_value=realised.get("value") or Decimal(0),
            )
        )
    return sorted(result, key=lambda r: r.label)


# ------------------------------------------------------------------------------------------- portal reads


def program_years(*, user: Any) -> list[int]:
    """Years that have programs the user may see (newest first), plus the current year."""
    from django.utils import timezone

    years = set(Program.objects.for_user(user).order_by().values_list("year", flat=True).distinct())
    years.add(timezone.localdate().year)
    return sorted(years, reverse=True)


@dataclass(frozen=True)
class ProgramTotals:
    programs: int
    target_households: int
    reached: int
    budget: Decimal
    realised_value: Decimal


def program_totals(*, programs: QuerySet[Program]) -> ProgramTotals:
    """Sums over an annotated ``program_list`` (reached is summed per program: a household helped by two
    programs counts twice here; the overview counts it once per group)."""
    row = programs.order_by().aggregate(
        n=Count("id"),
        target=Sum("target_households"),
        budget=Sum("budget"),
        reached_total=Sum("reached"),
        realised_total=Sum("realised_value"),
    )
    return ProgramTotals(
        programs=row["n"] or 0,
        target_households=row["target"] or 0,
        reached=row["reached_total"] or 0,
        budget=row["budget"] or Decimal(0),
        realised_value=row["realised_total"] or Decimal(0),
    )


def household_finder(
    *, user: Any, name: str = "", nik: str = "", id_keluarga: str = "", region: str = "", limit: int = 10
) -> list[Household]:
    """A few households matching what an officer typed (name, exact NIK, ID Keluarga, desa), in scope."""
    from households.selectors import HouseholdFilters, household_search

    filters = HouseholdFilters(name=name, nik=nik, id_keluarga=id_keluarga, region=region)
    return list(household_search(user=user, filters=filters)[:limit])


@dataclass(frozen=True)
class ProgramRealisationView:
    """What the program page shows above its intervention list."""

    reached: int
    realised_value: Decimal
    status_counts: dict[str, int]
    by_kecamatan: list[KecamatanRealisation]


def program_realisation(*, program: Program) -> ProgramRealisationView:
    """Households reached (distinct over the program), value realised, interventions per status and delivered
    households per kecamatan of one program, from its precomputed realisation rows (one small query)."""
    rows = list(ProgramRealisation.objects.filter(program=program).order_by("kecamatan_code"))
    status_counts = {status: 0 for status in InterventionStatus.values}
    reached, realised = 0, Decimal(0)
    for row in rows:
        if row.kecamatan_code == "":
            status_counts[row.status] = row.interventions
            if row.status == InterventionStatus.DELIVERED:
                reached, realised = row.households, row.value
    delivered = [r for r in rows if r.kecamatan_code and r.status == InterventionStatus.DELIVERED]
    names = dict(Region.objects.filter(code__in=[r.kecamatan_code for r in delivered]).values_list("code", "name"))
    return ProgramRealisationView(
        reached=reached,
        realised_value=realised,
        status_counts=status_counts,
        by_kecamatan=[
            KecamatanRealisation(
                code=r.kecamatan_code,
                name=names.get(r.kecamatan_code, r.kecamatan_code),
                households=r.households,
                value=r.value,
                interventions=r.interventions,
            )
            for r in delivered
        ],
    )


def program_fetch(*, user: Any, pk: int) -> Program:
    """One program in the user's scope (404 otherwise) without the realisation subqueries: the program page
    reads those from ``program_realisation``."""
    qs = Program.objects.for_user(user).select_related("organization", "cluster", "strategy", "assistance_kind")
    program: Program = get_object_or_404(qs, pk=pk)
    return program


def program_totals_of(programs: list[Program]) -> ProgramTotals:
    """``program_totals`` of rows already read from ``program_list`` (no second pass over the interventions)."""
    return ProgramTotals(
        programs=len(programs),
        target_households=sum(p.target_households for p in programs),
        reached=sum(p.reached for p in programs),  # type: ignore[attr-defined]
        budget=sum((p.budget for p in programs), Decimal(0)),
        realised_value=sum((p.realised_value for p in programs), Decimal(0)),  # type: ignore[attr-defined]
    )
