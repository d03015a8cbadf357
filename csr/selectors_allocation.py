"""Reads of the secretariat's allocation tool: the candidate households of a partner for a need (gap facts of
the cycle's year, filtered like the gap list, inside the partner's operating area, minus what is already
allocated), and the per-area table/map of allocated vs unallocated targets. Set-based: one query each."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from csr.models import Allocation, CsrCycle
from csr.services import operating_area_q
from households.models import Household
from programs.models import AssistanceKind
from reports.models import GapHouseholdFact, RegionBoundarySet
from reports.selectors import GapListFilters, gap_households, normalise_region
from reports.selectors_dashboard import ChildRow, map_geojson
from tkpk.exceptions import DomainError
from tkpk.models import Organization, Region

SAMPLE_SIZE = 20
_COLUMN = {2: "province_code", 4: "kabupaten_code", 6: "kecamatan_code", 10: "desa_id"}


@dataclass(frozen=True)
class CandidateFilters:
    """The gap list's filters (region, desil, uncovered, unmet need) plus the allocation rules.

    ``not_allocated``: the household has no active allocation in this cycle at all (any partner, any need).
    ``override``: keep households another partner holds for this need (allocated with the override reason).
    Households this partner already holds for the need are never candidates."""

    gap: GapListFilters
    not_allocated: bool = False
    override: bool = False


def region_column(code: str) -> str:
    return _COLUMN[len(code)]


def allocation_candidates(
    *,
    user: Any,
    cycle: CsrCycle,
    organization: Organization,
    assistance_kind: AssistanceKind,
    filters: CandidateFilters,
) -> QuerySet[GapHouseholdFact]:
    """Gap facts of the cycle's year of the households the secretariat may allocate to ``organization`` for
    ``assistance_kind`` (DomainError for an unknown region or need, as on the gap list)."""
    gap = dataclasses.replace(filters.gap, year=cycle.year)
    facts = gap_households(user=user, filters=gap)
    facts = facts.filter(**{region_column(cycle.region_id): cycle.region_id})
    facts = facts.filter(household__in=Household.objects.filter(operating_area_q(organization)).values("pk"))
    active = Allocation.objects.active().filter(cycle=cycle)
    same_need = active.filter(assistance_kind=assistance_kind)
    if filters.override:
        same_need = same_need.filter(organization=organization)
    facts = facts.exclude(household_id__in=same_need.values("household_id"))
    if filters.not_allocated:
        facts = facts.exclude(household_id__in=active.values("household_id"))
    return facts


def candidate_household_ids(facts: QuerySet[GapHouseholdFact], limit: int | None = None) -> list[int]:
    """The candidates' household ids, poorest first (desil, then id), at most ``limit``."""
    ids = facts.order_by("desil", "household_id").values_list("household_id", flat=True)
    return list(ids[:limit] if limit else ids)


def candidate_sample(facts: QuerySet[GapHouseholdFact], size: int = SAMPLE_SIZE) -> list[GapHouseholdFact]:
    return list(facts.select_related("household", "household__desa").order_by("desil", "household_id")[:size])


def area_regions(*, cycle: CsrCycle, organization: Organization | None) -> list[Region]:
    """Kecamatan and desa the region filter offers: inside the partner's operating area (its kecamatan/desa;
    the cycle's whole region when it has none), and inside the cycle's region."""
    regions = Region.objects.filter(code__startswith=cycle.region_id, level__gte=3)
    if organization is not None:
        codes = [c for c in organization.area.values_list("code", flat=True) if c.startswith(cycle.region_id)]
        if codes:
            condition = Q()
            for code in codes:
                condition |= Q(code__startswith=code)
            regions = regions.filter(condition)
    return list(regions.select_related("parent").order_by("code"))


# --------------------------------------------------------------------------------------------------- map


@dataclass
class AreaRow:
    code: str
    name: str
    target: int
    allocated: int
    url: str

    @property
    def unallocated(self) -> int:
        return self.target - self.allocated

    @property
    def allocated_share(self) -> float:
        return round(100 * self.allocated / self.target, 1) if self.target else 0.0


@dataclass
class AllocationMap:
    region: Region
    child_level: int
    desil: int
    assistance_kind: AssistanceKind | None
    rows: list[AreaRow] = field(default_factory=list)
    breadcrumbs: list[Region] = field(default_factory=list)
    boundary: RegionBoundarySet | None = None
    geojson: dict[str, Any] | None = None

    @property
    def target(self) -> int:
        return sum(r.target for r in self.rows)

    @property
    def allocated(self) -> int:
        return sum(r.allocated for r in self.rows)

    @property
    def unallocated(self) -> int:
        return self.target - self.allocated


def allocation_map(
    *,
    user: Any,
    cycle: CsrCycle,
    region: str = "",
    desil: int = 1,
    assistance_kind: AssistanceKind | None = None,
) -> AllocationMap:
    """Targets (households of ``desil`` not yet covered by any program, from the gap facts of the cycle's
    year) per kecamatan of the cycle's region, or per desa of one kecamatan; how many of them hold an active
    allocation of the cycle (for ``assistance_kind`` when given)."""
    code = normalise_region(region) or cycle.region_id
    if not code.startswith(cycle.region_id) or len(code) > 6:
        raise DomainError(_("Pilih kecamatan di dalam wilayah siklus ini."), code="invalid_region")
    parent = Region.objects.filter(code=code).first()
    if parent is None:
        raise DomainError(_("Kode wilayah tidak dikenal: %(code)s") % {"code": code}, code="invalid_region")
    child_level = 3 if len(code) <= 4 else 4
    allocations = Allocation.objects.active().filter(cycle=cycle)
    if assistance_kind is not None:
        allocations = allocations.filter(assistance_kind=assistance_kind)
    facts = GapHouseholdFact.objects.for_user(user).filter(
        year=cycle.year, desil=desil, covered=False, **{region_column(code): code}
    )
    group = "kecamatan_code" if child_level == 3 else "desa_id"
    counts = (
        facts.values(group)
        .annotate(
            target=Count("id"),
            allocated=Count("id", filter=Q(household_id__in=allocations.values("household_id"))),
        )
        .order_by(group)
    )
    names = dict(Region.objects.filter(parent_id=code).values_list("code", "name"))
    by_code = {row[group]: row for row in counts}
    result = AllocationMap(region=parent, child_level=child_level, desil=desil, assistance_kind=assistance_kind)
    query: dict[str, Any] = {"desil": desil}
    if assistance_kind is not None:
        query["kind"] = assistance_kind.pk
    base = reverse("csr:allocation-map", args=[cycle.pk])
    for child_code, name in sorted(names.items()):
        row = by_code.get(child_code, {"target": 0, "allocated": 0})
        url = f"{base}?{urlencode({**query, 'region': child_code})}" if child_level == 3 else ""
        result.rows.append(
            AreaRow(code=child_code, name=name, target=row["target"], allocated=row["allocated"], url=url)
        )
    result.rows.sort(key=lambda r: (-r.unallocated, -r.target, r.name))
    result.breadcrumbs = list(Region.objects.filter(code__in=[code[:n] for n in (4, 6) if n <= len(code)]))
    result.boundary = RegionBoundarySet.objects.for_user(user).filter(region_id=code, level=child_level).first()
    if result.boundary is not None:
        children = [
            ChildRow(
                code=r.code,
                name=r.name,
                level=child_level,
                households=r.target,
                desil1=r.target,
                desil1_uncovered=r.unallocated,
                covered=r.allocated,
                overlap=0,
                url=r.url,
            )
            for r in result.rows
        ]
        result.geojson = map_geojson(boundary=result.boundary, children=children)
    return result
