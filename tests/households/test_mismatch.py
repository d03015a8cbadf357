"""Source mismatch report: each kind, per-desa counts, scope, and the logged .xlsx export."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from households import mismatch
from tests.factories import (
    HouseholdFactory,
    HouseholdSourceLinkFactory,
    PersonFactory,
    SnapshotFactory,
    load_kendal,
    load_region,
    source,
    user_with_role,
)
from tkpk.models import AccessAction, PersonalDataAccess
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

DESA_A = "3324012001"
DESA_B = "3324012002"


@pytest.fixture
def world():
    load_kendal()
    load_region("64.02")
    p3ke = SnapshotFactory(source=source("p3ke"))
    dtks = SnapshotFactory(source=source("dtks"))
    dtsen = SnapshotFactory(source=source("dtsen"))
    both = HouseholdFactory(desa_id=DESA_A, desil=1)
    HouseholdSourceLinkFactory(household=both, snapshot=p3ke, desil=1)
    HouseholdSourceLinkFactory(household=both, snapshot=dtks)
    only_p3ke = HouseholdFactory(desa_id=DESA_A, desil=1, head_name="HANYA P3KE")
    HouseholdSourceLinkFactory(household=only_p3ke, snapshot=p3ke, desil=1)
    HouseholdSourceLinkFactory(household=only_p3ke, snapshot=dtsen, desil=3)  # desil disagrees
    only_dtks = HouseholdFactory(desa_id=DESA_B, desil=None, head_name="HANYA DTKS")
    HouseholdSourceLinkFactory(household=only_dtks, snapshot=dtks)
    first = PersonFactory(
        household=HouseholdFactory(desa_id=DESA_B), name="Siti Aminah", birth_date=dt.date(1990, 1, 15)
    )
    PersonFactory(household=HouseholdFactory(desa_id=DESA_B), nik=first.nik, name="Siti A.")
    PersonFactory(household=HouseholdFactory(desa_id=DESA_B), name="SITI AMINAH", birth_date=dt.date(1990, 1, 15))
    outside = HouseholdFactory(desa_id="6402012001", desil=1)
    HouseholdSourceLinkFactory(household=outside, snapshot=SnapshotFactory(source=source("p3ke")), desil=1)
    return {"only_p3ke": only_p3ke, "only_dtks": only_dtks, "first": first, "outside": outside}


def _ids(user, code):
    return set(mismatch.mismatch_households(user=user, code=code).values_list("pk", flat=True))


def test_each_kind_finds_exactly_its_households(world):
    user = user_with_role(Role.SECRETARIAT)
    assert _ids(user, "p3ke_desil1_not_in_dtks") == {world["only_p3ke"].pk}
    assert _ids(user, "dtks_not_in_p3ke") == {world["only_dtks"].pk}
    assert _ids(user, "desil_disagrees") == {world["only_p3ke"].pk}
    nik_households = _ids(user, "nik_in_two_households")
    assert len(nik_households) == 2 and world["first"].household_id in nik_households
    name_households = _ids(user, "person_in_two_families")
    assert len(name_households) == 2 and world["first"].household_id in name_households


def test_other_region_is_never_counted(world):
    user = user_with_role(Role.SECRETARIAT)
    assert world["outside"].pk not in _ids(user, "p3ke_desil1_not_in_dtks")
    kukar = user_with_role(Role.SECRETARIAT, region_code="6402")
    assert _ids(kukar, "p3ke_desil1_not_in_dtks") == {world["outside"].pk}


def test_counts_per_desa(world):
    user = user_with_role(Role.SECRETARIAT)
    rows, totals = mismatch.mismatch_counts_by_desa(user=user)
    by_code = {row["code"]: dict(zip([k.code for k in mismatch.KINDS], row["counts"], strict=True)) for row in rows}
    assert by_code[DESA_A]["p3ke_desil1_not_in_dtks"] == 1
    assert by_code[DESA_B]["dtks_not_in_p3ke"] == 1
    assert totals["nik_in_two_households"] == 2


def test_page_and_logged_export(client, world):
    user = user_with_role(Role.SECRETARIAT)
    client.force_login(user)
    page = client.get("/registri/ketidaksesuaian/")
    assert page.status_code == 200
    assert "Desil 1 P3KE, tidak ada di DTKS" in page.content.decode()
    response = client.get("/registri/ketidaksesuaian/unduh.xlsx?jenis=p3ke_desil1_not_in_dtks")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Jenis ketidaksesuaian"
    assert [r[4] for r in rows[1:]] == ["HANYA P3KE"]
    log = PersonalDataAccess.objects.get(user=user, action=AccessAction.EXPORT)
    assert log.object_ids == [world["only_p3ke"].pk]


@pytest.mark.parametrize("role", [Role.OPD_OFFICER, Role.PARTNER, Role.LEADERSHIP])
def test_other_roles_are_refused(client, world, role):
    client.force_login(user_with_role(role))
    assert client.get("/registri/ketidaksesuaian/").status_code == 403
    assert client.get("/registri/ketidaksesuaian/unduh.xlsx").status_code == 403
