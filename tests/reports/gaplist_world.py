"""A small gap world for the gap-list and verval tests: two desa of Kendal, computed gap facts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from households.choices import Relationship
from households.models import Household
from reports.services import gap_recompute_now
from tests.factories import DEFAULT_DESA, HouseholdFactory, PersonFactory, desa, user_with_role
from tkpk.models import Region, RegionLevel
from tkpk.scoping import Role


@dataclass
class GapWorld:
    year: int
    desa_a: Region
    desa_b: Region
    a: list[Household]  # desa A: desil 1, 1, 2
    b: list[Household]  # desa B (another kecamatan): desil 1, 3
    secretariat: Any

    def dotted(self, region: Region) -> str:
        code = region.code
        return f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"


def build_world(*, extra_in_a: int = 0) -> GapWorld:
    desa_a = desa(DEFAULT_DESA)
    desa_b = Region.objects.filter(level=RegionLevel.DESA, code__startswith="332402").order_by("code").first()
    assert desa_b is not None
    a = [
        HouseholdFactory(desa=desa_a, desil=1, head_name="Sutrisno Aman"),
        HouseholdFactory(desa=desa_a, desil=1, head_name="Wagiyem Lestari"),
        HouseholdFactory(desa=desa_a, desil=2, head_name="Darmaji Putra"),
    ]
    a += [HouseholdFactory(desa=desa_a, desil=3, head_name=f"Tambahan {n:02d}") for n in range(extra_in_a)]
    b = [
        HouseholdFactory(desa=desa_b, desil=1, head_name="Kasmirah Dewi"),
        HouseholdFactory(desa=desa_b, desil=3, head_name="Paijo Slamet"),
    ]
    for household in (*a[:3], *b):
        PersonFactory(
            household=household,
            relationship=Relationship.HEAD,
            name=household.head_name,
            birth_date=dt.date(1975, 5, 17),
        )
    year = timezone.localdate().year
    gap_recompute_now(year=year, region_code="3324")
    secretariat = user_with_role(Role.SECRETARIAT, "3324", username="sekretariat_gap")
    return GapWorld(year=year, desa_a=desa_a, desa_b=desa_b, a=a, b=b, secretariat=secretariat)
