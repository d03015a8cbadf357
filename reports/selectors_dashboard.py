"""Reads of the coverage-gap dashboard: the precomputed figures of one region and its children, trend and
targets over the years, programs by cluster / strategy / OPD, and the map features. Nothing here counts
households: every figure comes from ``GapSummary`` rows (or the precomputed program realisation)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from programs.models import AssistanceKind, InterventionStatus, Program, ProgramCluster, ProgramRealisation
from reports.engine import region_level
from reports.models import GapSummary, RegionBoundarySet, RegionTarget
from reports.selectors import need_labels, normalise_region, summary_rows, visible_root
from tkpk.exceptions import DomainError
from tkpk.identifiers import dotted_region_code
from tkpk.models import Region
from tkpk.scoping import scope_for

TOP_CONVERGENCE = 10
TOP_PROGRAM_GROUPS = 12


@dataclass(frozen=True)
class ChildRow:
    """One kecamatan (or desa, kab/kota) under the region shown, with where a click on it leads."""

    code: str
    name: str
    level: int
    households: int
    desil1: int
    desil1_uncovered: int
    covered: int
    overlap: int
    url: str

    @property
    def dotted_code(self) -> str:
        return dotted_region_code(self.code)

    @property
    def uncovered_share(self) -> float:
        return round(100 * self.desil1_uncovered / self.desil1, 1) if self.desil1 else 0.0


@dataclass
class Dashboard:
    year: int
    region: Region | None
    summary: GapSummary | None
    level: int
    breadcrumbs: list[Region] = field(default_factory=list)
    children: list[ChildRow] = field(default_factory=list)
    child_level: int | None = None
    desil: list[tuple[str, int]] = field(default_factory=list)
    unmet: list[dict[str, Any]] = field(default_factory=list)
    convergence: list[tuple[str, int]] = field(default_factory=list)
    by_cluster: list[tuple[str, int]] = field(default_factory=list)
    by_strategy: list[tuple[str, int]] = field(default_factory=list)
    by_organization: list[tuple[str, int]] = field(default_factory=list)
    programs_scope_note: str = ""
    trend: list[dict[str, Any]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    targets_region: Region | None = None
    boundary: RegionBoundarySet | None = None
    map_geojson: dict[str, Any] | None = None

    @property
    def covered_pct(self) -> float:
        s = self.summary
        return round(100 * s.covered / s.households, 1) if s and s.households else 0.0

    @property
    def desil1_uncovered_pct(self) -> float:
        s = self.summary
        return round(100 * s.desil1_uncovered / s.desil1, 1) if s and s.desil1 else 0.0


def household_list_url(*, region: str, year: int) -> str:
    """The by-name list of a desa's uncovered Desil 1 households (the gap-list page)."""
    try:
        base = reverse("reports:gap_households")
    except NoReverseMatch:
        base = "/kesenjangan/keluarga/"
    query: dict[str, str | int] = {"region": region, "year": year, "uncovered": 1, "desil": 1}
    return f"{base}?{urlencode(query)}"


def drill_url(*, code: str, year: int) -> str:
    """Where a click on a region leads: a kab/kota or kecamatan opens its own dashboard, a desa its
    household list."""
    if region_level(code) >= 4:
        return household_list_url(region=code, year=year)
    query: dict[str, str | int] = {"year": year, "region": code}
    return f"{reverse('reports:dashboard')}?{urlencode(query)}"


def resolve_region(*, user: Any, region: str | None) -> Region | None:
    """The region asked for, if the user may see it (404 otherwise); their own TKPK region by default."""
    root = visible_root(user)
    try:
        code = normalise_region(region) or root
    except DomainError as exc:
        raise Http404(exc.message) from exc
    if not code:
        return None
    scope = scope_for(user)
    if not scope.is_superuser and not any(code.startswith(c) for c in scope.region_codes):
        raise Http404(_("Wilayah di luar cakupan Anda."))
    found = Region.objects.filter(code=code).first()
    if found is None:
        raise Http404(_("Wilayah tidak dikenal."))
    return found


def _breadcrumbs(*, user: Any, region: Region) -> list[Region]:
    root = visible_root(user)
    codes = [region.code[:n] for n in (2, 4, 6, 10) if n <= len(region.code) and len(region.code[:n]) >= len(root)]
    by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
    return [by_code[c] for c in codes if c in by_code]


def _programs(*, user: Any, year: int, region: str, dimension: str) -> list[tuple[str, int]]:
    """Households reached per strategy or organization, from the precomputed realisation rows: a
    kabupaten or kecamatan sums its kecamatan rows (a household lives in one kecamatan, so the sum is
    distinct per program); the whole area uses the programs' total rows."""
    label_field = {"strategy": "program__strategy__name", "organization": "program__organization__name"}[dimension]
    programs = Program.objects.for_aggregates(user).filter(year=year)
    rows = ProgramRealisation.objects.filter(program__in=programs.values("pk"), status=InterventionStatus.DELIVERED)
    if len(region) >= 4:
        rows = rows.filter(kecamatan_code__startswith=region[:6])
    else:
        rows = rows.filter(kecamatan_code="")
    grouped = rows.order_by().values(label_field).annotate(n=Sum("households"))
    result = [(str(r[label_field] or "-"), int(r["n"] or 0)) for r in grouped if r["n"]]
    return sorted(result, key=lambda item: (-item[1], item[0]))[:TOP_PROGRAM_GROUPS]


def _targets(*, user: Any, region: Region) -> tuple[Region | None, list[dict[str, Any]]]:
    """Targets of the region or, when it has none, of its nearest ancestor that has some."""
    codes = [region.code[:n] for n in (10, 6, 4, 2) if n <= len(region.code)]
    rows = list(RegionTarget.objects.for_user(user).filter(region_id__in=codes).select_related("region"))
    for code in codes:
        mine = sorted((r for r in rows if r.region_id == code), key=lambda r: r.year)
        if mine:

            def num(value: Decimal | None) -> float | None:
                return float(value) if value is not None else None

            return mine[0].region, [
                {
                    "year": r.year,
                    "poverty_target": num(r.poverty_rate_target),
                    "poverty_actual": num(r.poverty_rate_actual),
                    "extreme_target": num(r.extreme_rate_target),
                    "extreme_actual": num(r.extreme_rate_actual),
                    "poor_population": r.poor_population,
                    "source_note": r.source_note,
                }
                for r in mine
            ]
    return None, []


def _feature_code(feature: dict[str, Any], prop: str) -> str:
    value = (feature.get("properties") or {}).get(prop)
    return normalise_region(str(value)) if value is not None else ""


def map_geojson(*, boundary: RegionBoundarySet, children: list[ChildRow]) -> dict[str, Any]:
    """The boundary set's polygons, each with the figures of its region (keyed by plain code)."""
    by_code = {c.code: c for c in children}
    features = []
    for feature in boundary.geojson.get("features", []):
        code = _feature_code(feature, boundary.code_property)
        row = by_code.get(code)
        features.append(
            {
                "type": "Feature",
                "geometry": feature.get("geometry"),
                "properties": {
                    "code": code,
                    "name": row.name if row else code,
                    "desil1": row.desil1 if row else 0,
                    "desil1_uncovered": row.desil1_uncovered if row else 0,
                    "households": row.households if row else 0,
                    "url": row.url if row else "",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def dashboard(*, user: Any, region: str | None, year: int) -> Dashboard:
    place = resolve_region(user=user, region=region)
    code = place.code if place else ""
    summaries = GapSummary.objects.for_user(user)
    if place is not None:
        summary = summaries.filter(year=year, region_code=code).first()
        level = place.level
    else:  # a superuser without a region: the first province
        summary = summaries.filter(year=year, level=1).order_by("region_code").first()
        level = 1
        if summary is not None:
            place = Region.objects.filter(code=summary.region_code).first()
            code = summary.region_code
    data = Dashboard(year=year, region=place, summary=summary, level=level)
    if place is not None:
        data.breadcrumbs = _breadcrumbs(user=user, region=place)
        data.targets_region, data.targets = _targets(user=user, region=place)
    data.trend = [
        {
            "year": s.year,
            "households": s.households,
            "desil1": s.desil1,
            "desil1_uncovered": s.desil1_uncovered,
            "covered": s.covered,
            "graduated": s.graduated,
        }
        for s in summaries.filter(region_code=code).order_by("year")
    ]
    if level < 4 and code:
        data.child_level = level + 1
        data.children = [
            ChildRow(
                code=row["region"],
                name=row["name"],
                level=level + 1,
                households=row["households"],
                desil1=row["desil1"],
                desil1_uncovered=row["desil1_uncovered"],
                covered=row["covered"],
                overlap=row["overlap"],
                url=drill_url(code=row["region"], year=year),
            )
            for row in summary_rows(user=user, region=code, level=level + 1, year=year)
        ]
        data.children.sort(key=lambda c: (-c.desil1_uncovered, c.name))
        if level + 1 in (3, 4):
            data.boundary = RegionBoundarySet.objects.for_user(user).filter(region_id=code, level=level + 1).first()
            if data.boundary is not None:
                data.map_geojson = map_geojson(boundary=data.boundary, children=data.children)
    if summary is None:
        return data
    by_desil = summary.by_desil or {}
    data.desil = [(str(d), int(by_desil.get(str(d), 0))) for d in range(1, 11)]
    if by_desil.get(""):
        data.desil.append((_("Tanpa desil"), int(by_desil[""])))
    labels = need_labels()
    data.unmet = [
        {
            "code": need,
            "name": labels.get(need, need),
            "needs": int((summary.needs or {}).get(need, 0)),
            "unmet": int(unmet),
        }
        for need, unmet in sorted((summary.unmet_need or {}).items(), key=lambda item: -int(item[1]))
    ]
    kind_names = dict(AssistanceKind.objects.values_list("code", "name"))
    top = sorted((summary.convergence or {}).items(), key=lambda item: (-int(item[1]), item[0]))[:TOP_CONVERGENCE]
    data.convergence = [(" + ".join(kind_names.get(k, k) for k in combo.split("+")), int(n)) for combo, n in top]
    cluster_names = dict(ProgramCluster.objects.values_list("code", "name"))
    data.by_cluster = [
        (cluster_names.get(c, c), int(n))
        for c, n in sorted((summary.covered_by_cluster or {}).items(), key=lambda item: item[0])
    ]
    if level <= 3:
        data.by_strategy = _programs(user=user, year=year, region=code, dimension="strategy")
        data.by_organization = _programs(user=user, year=year, region=code, dimension="organization")
    return data
