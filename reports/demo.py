"""Demo data of the gap dashboard: poverty targets of the demo kabupaten and SCHEMATIC boundaries (a grid of
rectangles, flagged ``is_schematic``) for its kecamatan and for the desa of its first two kecamatan, so the
map works in a demo without an official boundary file. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction

from reports.models import RegionBoundarySet, RegionTarget
from tkpk.exceptions import DomainError
from tkpk.models import Region

# (year, poverty target, poverty actual, extreme target, extreme actual): demo figures, not BPS data.
DEMO_TARGETS: list[tuple[int, str, str | None, str, str | None]] = [
    (2022, "9.00", "9.84", "1.00", "1.23"),
    (2023, "8.50", "9.12", "0.60", "0.88"),
    (2024, "7.80", "8.59", "0.40", "0.52"),
    (2025, "7.44", "7.90", "0.20", "0.31"),
    (2026, "6.65", None, "0.00", None),
]
DEMO_NOTE = "Angka DEMO (fiktif), bukan data BPS"
DESA_KECAMATAN_COUNT = 2
# Roughly where Kendal lies; the grid only has to look like a map, it is not a boundary.
ORIGIN_LON, ORIGIN_LAT = 110.0, -6.9


@dataclass(frozen=True)
class DemoGapResult:
    targets: int
    boundary_sets: int
    features: int


def _grid(codes: list[tuple[str, str]], *, lon: float, lat: float, width: float, prop: str) -> dict[str, Any]:
    """A FeatureCollection of equal rectangles, row by row, one per region code."""
    columns = max(1, round(len(codes) ** 0.5 + 0.5))
    cell = width / columns
    features = []
    for index, (code, name) in enumerate(codes):
        row, column = divmod(index, columns)
        west, north = lon + column * cell, lat - row * cell
        east, south = west + cell * 0.96, north - cell * 0.96
        ring = [[west, north], [east, north], [east, south], [west, south], [west, north]]
        features.append(
            {
                "type": "Feature",
                "properties": {prop: code, "nama": name, "skematis": True},
                "geometry": {"type": "Polygon", "coordinates": [[[round(x, 5), round(y, 5)] for x, y in ring]]},
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _boundary(parent: Region, level: int, children: list[Region], *, width: float) -> RegionBoundarySet:
    label = "kecamatan" if level == 3 else "desa/kelurahan"
    geojson = _grid([(r.code, r.name) for r in children], lon=ORIGIN_LON, lat=ORIGIN_LAT, width=width, prop="kode")
    boundary, _ = RegionBoundarySet.objects.update_or_create(
        region=parent,
        level=level,
        defaults={
            "name": f"SKEMATIS (demo) batas {label} {parent.name}",
            "geojson": geojson,
            "code_property": "kode",
            "feature_count": len(geojson["features"]),
            "is_schematic": True,
        },
    )
    return boundary


@transaction.atomic
def demo_gap_seed(*, region_code: str) -> DemoGapResult:
    """Targets and schematic boundaries for one kabupaten/kota (never replaces an official boundary set)."""
    code = region_code.replace(".", "").strip()
    kabupaten = Region.objects.filter(code=code, level=2).first()
    if kabupaten is None:
        raise DomainError(f"Kabupaten/kota {region_code} tidak ditemukan.", code="unknown_region")
    for year, poverty_target, poverty_actual, extreme_target, extreme_actual in DEMO_TARGETS:
        RegionTarget.objects.update_or_create(
            region=kabupaten,
            year=year,
            defaults={
                "poverty_rate_target": Decimal(poverty_target),
                "poverty_rate_actual": Decimal(poverty_actual) if poverty_actual else None,
                "extreme_rate_target": Decimal(extreme_target),
                "extreme_rate_actual": Decimal(extreme_actual) if extreme_actual else None,
                "source_note": DEMO_NOTE,
            },
        )
    official = set(
        RegionBoundarySet.objects.filter(region__code__startswith=code, is_schematic=False).values_list(
            "region_id", "level"
        )
    )
    kecamatan = list(Region.objects.filter(parent=kabupaten, level=3).order_by("code"))
    sets: list[RegionBoundarySet] = []
    if kecamatan and (code, 3) not in official:
        sets.append(_boundary(kabupaten, 3, kecamatan, width=0.5))
    for kec in kecamatan[:DESA_KECAMATAN_COUNT]:
        desa = list(Region.objects.filter(parent=kec, level=4).order_by("code"))
        if desa and (kec.code, 4) not in official:
            sets.append(_boundary(kec, 4, desa, width=0.12))
    return DemoGapResult(
        targets=len(DEMO_TARGETS), boundary_sets=len(sets), features=sum(s.feature_count for s in sets)
    )
