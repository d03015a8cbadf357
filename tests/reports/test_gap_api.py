"""``/api/v1/gaps/summary/`` and ``/api/v1/gaps/households/``: filters, scoping, and 400 on bad parameters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from households.choices import BuildingQuality, NikStatus, PersonStatus, Relationship
from households.models import Household
from programs.models import AssistanceKind
from reports.services import gap_recompute_now
from tests.factories import (
    AllocationFactory,
    HouseholdFactory,
    HouseholdSourceLinkFactory,
    InterventionFactory,
    PersonFactory,
    ProgramFactory,
    desa,
    load_region,
    reference,
    user_with_role,
)
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

YEAR = 2025
SUMMARY = "/api/v1/gaps/summary/"
HOUSEHOLDS = "/api/v1/gaps/households/"
BLUMAH = "3324012001"
KEDITEN = "3324012002"
PAGERUYUNG_DESA = "3324022002"
KUKAR_DESA = "6402012001"


@dataclass
class Registry:
    reached: Household  # Blumah, desil 1, pangan, head with NIK, unfit housing (RTLH unmet)
    uncovered: Household  # Blumah, desil 1, worker head without NIK (usaha unmet, no_nik)
    unverified: Household  # Kediten, desil 2, NIK needing verification, a moved member, not in latest
    pageruyung: Household  # Pageruyung, desil 3, modal usaha (usaha met)
    kukar: Household  # Kutai Kartanegara, desil 1


def head(household: Household, **kw: Any) -> None:
    PersonFactory(household=household, relationship=Relationship.HEAD, birth_date=dt.date(1980, 1, 1), **kw)


@pytest.fixture
def registry() -> Registry:
    load_region("64.02")
    pangan = ProgramFactory(year=YEAR, assistance_kind=reference(AssistanceKind, "pangan"))
    modal = ProgramFactory(year=YEAR, assistance_kind=reference(AssistanceKind, "modal-usaha"))

    reached = HouseholdFactory(desa=desa(BLUMAH), desil=1, roof_quality=BuildingQuality.POOR)
    head(reached)
    InterventionFactory(program=pangan, household=reached, delivered_on=dt.date(YEAR, 3, 1))

    uncovered = HouseholdFactory(desa=desa(BLUMAH), desil=1)
    head(uncovered, nik=None, nik_status=NikStatus.MISSING)

    unverified = HouseholdFactory(desa=desa(KEDITEN), desil=2)
    head(unverified, nik_status=NikStatus.NEEDS_VERIFICATION)
    PersonFactory(household=unverified, status=PersonStatus.MOVED)
    HouseholdSourceLinkFactory(household=unverified, is_present=False)

    pageruyung = HouseholdFactory(desa=desa(PAGERUYUNG_DESA), desil=3)
    head(pageruyung)
    InterventionFactory(program=modal, household=pageruyung, delivered_on=dt.date(YEAR, 5, 1))

    kukar = HouseholdFactory(desa=desa(KUKAR_DESA), desil=1)
    head(kukar)

    gap_recompute_now(year=YEAR)
    return Registry(reached, uncovered, unverified, pageruyung, kukar)


def client_for(role: str, region_code: str = "3324") -> tuple[APIClient, Any]:
    user = user_with_role(role, region_code)
    client = APIClient()
    client.force_login(user)
    return client, user


def household_ids(client: APIClient, **params: Any) -> set[int]:
    response = client.get(HOUSEHOLDS, {"year": YEAR, **params})
    assert response.status_code == 200, response.content
    return {row["household_id"] for row in response.json()["results"]}


# --------------------------------------------------------------------------------------------- summary


def test_summary_lists_the_kecamatan_of_the_users_kabupaten(registry: Registry) -> None:
    client, _user = client_for(Role.SECRETARIAT)
    response = client.get(SUMMARY, {"year": YEAR})
    assert response.status_code == 200
    body = response.json()
    assert body["year"] == YEAR and body["computed_at"] is not None and isinstance(body["sources"], list)
    rows = {r["region"]: r for r in body["results"]}
    assert set(rows) == {"332401", "332402"}
    plantungan = rows["332401"]
    assert (plantungan["households"], plantungan["desil1"], plantungan["desil1_uncovered"]) == (3, 2, 1)
    assert plantungan["covered"] == 1 and plantungan["overlap"] == 0 and plantungan["graduated"] == 0
    assert plantungan["unmet_need"] == {"rtlh": 1, "usaha": 3}
    assert rows["332402"]["unmet_need"] == {}


def test_summary_region_and_level(registry: Registry) -> None:
    client, _user = client_for(Role.OPD_OFFICER)
    rows = client.get(SUMMARY, {"year": YEAR, "region": "33.24.01"}).json()["results"]
    assert [(r["region"], r["households"]) for r in rows] == [(BLUMAH, 2), (KEDITEN, 1)]
    kab = client.get(SUMMARY, {"year": YEAR, "region": "33.24", "level": "kabupaten"}).json()["results"]
    assert [(r["region"], r["households"], r["covered"]) for r in kab] == [("3324", 4, 2)]


def test_partner_gets_403_on_the_summary(registry: Registry) -> None:
    client, user = client_for(Role.PARTNER)
    AllocationFactory(organization=user.test_organization, household=registry.uncovered)
    assert client.get(SUMMARY, {"year": YEAR}).status_code == 403
    assert client.get(SUMMARY, {"year": YEAR, "region": "33.24.01.2001", "level": "desa"}).status_code == 403


def test_opd_of_another_kabupaten_sees_no_kendal_figures(registry: Registry) -> None:
    client, _user = client_for(Role.OPD_OFFICER, "6402")
    assert client.get(SUMMARY, {"year": YEAR, "region": "33.24"}).json()["results"] == []
    assert client.get(SUMMARY, {"year": YEAR, "region": "33", "level": "kabupaten"}).json()["results"] == []
    own = client.get(SUMMARY, {"year": YEAR, "level": "kabupaten"}).json()["results"]
    assert [(r["region"], r["households"]) for r in own] == [("6402", 1)]
    assert household_ids(client) == {registry.kukar.pk}
    assert household_ids(client, region="33.24") == set()


# ------------------------------------------------------------------------------------------ households


def test_household_filters(registry: Registry) -> None:
    client, _user = client_for(Role.SECRETARIAT)
    r = registry
    assert household_ids(client) == {r.reached.pk, r.uncovered.pk, r.unverified.pk, r.pageruyung.pk}
    assert household_ids(client, region="33.24.01") == {r.reached.pk, r.uncovered.pk, r.unverified.pk}
    assert household_ids(client, region=KEDITEN) == {r.unverified.pk}
    assert household_ids(client, desil=1) == {r.reached.pk, r.uncovered.pk}
    assert household_ids(client, uncovered="true") == {r.uncovered.pk, r.unverified.pk}
    assert household_ids(client, uncovered="false") == {r.reached.pk, r.pageruyung.pk}
    assert household_ids(client, desil=1, uncovered="ya") == {r.uncovered.pk}
    assert household_ids(client, need="usaha") == {r.reached.pk, r.uncovered.pk, r.unverified.pk}
    assert household_ids(client, need="rtlh") == {r.reached.pk}
    assert household_ids(client, reason="no_nik") == {r.uncovered.pk}
    assert household_ids(client, reason="nik_unverified") == {r.unverified.pk}
    assert household_ids(client, reason="not_in_latest") == {r.unverified.pk}
    assert household_ids(client, reason="member_moved") == {r.unverified.pk}


def test_household_row_carries_needs_received_and_reasons(registry: Registry) -> None:
    client, _user = client_for(Role.SECRETARIAT)
    rows = client.get(HOUSEHOLDS, {"year": YEAR, "region": KEDITEN}).json()["results"]
    assert len(rows) == 1
    row = rows[0]
    assert row["covered"] is False and row["received"] == [] and row["desil"] == 2
    assert set(row["unmet_needs"]) == {"usaha"}
    assert set(row["reasons"]) == {"nik_unverified", "not_in_latest", "member_moved"}
    reached = client.get(HOUSEHOLDS, {"year": YEAR, "region": BLUMAH, "uncovered": "false"}).json()["results"]
    assert [(x["received"], sorted(x["needs"]), x["unmet_needs"]) for x in reached] == [
        (["pangan"], ["rtlh", "usaha"], ["rtlh", "usaha"])
    ]


def test_partner_sees_only_allocated_households(registry: Registry) -> None:
    client, user = client_for(Role.PARTNER)
    AllocationFactory(organization=user.test_organization, household=registry.uncovered)
    AllocationFactory(organization=user.test_organization, household=registry.kukar)  # outside its region
    assert household_ids(client) == {registry.uncovered.pk}
    assert household_ids(client, region=BLUMAH) == {registry.uncovered.pk}
    assert household_ids(client, uncovered="false") == set()


def test_leadership_has_no_api_access(registry: Registry) -> None:
    # Leadership reads the dashboards; the API is for roles with API access (and never gives it names).
    client, _user = client_for(Role.LEADERSHIP)
    assert client.get(SUMMARY, {"year": YEAR}).status_code == 403
    assert client.get(HOUSEHOLDS, {"year": YEAR}).status_code == 403


def test_anonymous_is_refused(registry: Registry) -> None:
    client = APIClient()
    assert client.get(SUMMARY, {"year": YEAR}).status_code in (401, 403)
    assert client.get(HOUSEHOLDS, {"year": YEAR}).status_code in (401, 403)


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (SUMMARY, {"year": "2025x"}, "tidak valid: tulis empat angka"),
        (SUMMARY, {"level": "dusun"}, "Tingkat wilayah tidak dikenal"),
        (SUMMARY, {"region": "33.24.01", "level": "kabupaten"}, "Tingkat harus sama atau di bawah"),
        (SUMMARY, {"region": "33.2"}, "Kode wilayah tidak dikenal"),
        (HOUSEHOLDS, {"year": "dua"}, "tidak valid: tulis empat angka"),
        (HOUSEHOLDS, {"desil": "satu"}, "Desil harus angka 1 sampai 10"),
        (HOUSEHOLDS, {"desil": "11"}, "Desil harus angka 1 sampai 10"),
        (HOUSEHOLDS, {"desil": "0"}, "Desil harus angka 1 sampai 10"),
        (HOUSEHOLDS, {"uncovered": "mungkin"}, "harus ya atau tidak"),
        (HOUSEHOLDS, {"overlap": "2"}, "harus ya atau tidak"),
        (HOUSEHOLDS, {"region": "33.2"}, "Kode wilayah tidak dikenal"),
        (HOUSEHOLDS, {"reason": "miskin"}, "Alasan tidak dikenal"),
        (HOUSEHOLDS, {"need": "listrik"}, "Kebutuhan tidak dikenal"),
    ],
)
def test_bad_parameters_are_400_in_indonesian(
    registry: Registry, url: str, params: dict[str, str], message: str
) -> None:
    client, _user = client_for(Role.SECRETARIAT)
    response = client.get(url, params)
    assert response.status_code == 400, response.content
    assert message in response.json()["message"]
