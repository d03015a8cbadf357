"""Shared fixtures of the reports tests: the regions the gap worlds live in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import load_region
from tkpk.models import Region, RegionLevel

# Two kabupaten of one province (Kendal, Batang) and one of another province (Kutai Kartanegara).
GAP_KABUPATEN = ("33.24", "33.25", "64.02")


@dataclass(frozen=True)
class GapRegions:
    """Desa codes of the gap worlds: two kecamatan of Kendal, one of Batang, one of Kutai Kartanegara."""

    desa: tuple[str, ...]

    @property
    def kabupaten(self) -> tuple[str, ...]:
        return tuple(sorted({d[:4] for d in self.desa}))


def _first_desa(kecamatan: Region, n: int) -> list[str]:
    return list(
        Region.objects.filter(level=RegionLevel.DESA, code__startswith=kecamatan.code)
        .order_by("code")
        .values_list("code", flat=True)[:n]
    )


@pytest.fixture
def gap_regions(db: None) -> GapRegions:
    for code in GAP_KABUPATEN:
        load_region(code)
    kendal = list(Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith="3324").order_by("code")[:2])
    batang = Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith="3325").order_by("code").first()
    kukar = Region.objects.filter(level=RegionLevel.KECAMATAN, code__startswith="6402").order_by("code").first()
    assert len(kendal) == 2 and batang is not None and kukar is not None
    desa = [*_first_desa(kendal[0], 2), *_first_desa(kendal[1], 2), *_first_desa(batang, 2), *_first_desa(kukar, 1)]
    return GapRegions(desa=tuple(desa))
