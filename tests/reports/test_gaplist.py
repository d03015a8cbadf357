"""The by-name gap list page and its .xlsx export (the verval sheet): filters, scoping, masking, logging."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from csr.models import Allocation
from reports import gaplist, selectors
from reports.models import GapHouseholdFact, NeedRule
from tests.factories import load_kendal, user_with_role
from tests.reports.gaplist_world import GapWorld, build_world
from tkpk.identifiers import mask_identifier
from tkpk.models import AccessAction, PersonalDataAccess
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

LIST = "reports:gap_households"
EXPORT = "reports:gap_export"


@pytest.fixture
def world() -> GapWorld:
    load_kendal()
    return build_world()


def login(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def names(response: object) -> set[str]:
    return {item["household"].head_name for item in response.context["rows"]}  # type: ignore[attr-defined]


def head_nik(household: object) -> str:
    return household.members.get(relationship="KEPALA_KELUARGA").nik  # type: ignore[attr-defined]


def test_facts_exist(world: GapWorld) -> None:
    assert GapHouseholdFact.objects.filter(year=world.year).count() == 5


def test_secretariat_lists_one_desa_and_the_view_is_logged(world: GapWorld) -> None:
    client = login(world.secretariat)
    response = client.get(reverse(LIST), {"year": world.year, "region": world.dotted(world.desa_a)})
    assert response.status_code == 200
    assert names(response) == {"Sutrisno Aman", "Wagiyem Lestari", "Darmaji Putra"}
    html = response.content.decode()
    assert "Data per" in html and reverse("households:detail", args=[world.a[0].pk]) in html
    log = PersonalDataAccess.objects.get(action=AccessAction.VIEW_HOUSEHOLD, object_type="gap_list")
    assert log.user == world.secretariat and log.record_count == 3 and log.region_code == world.desa_a.code
    assert sorted(log.object_ids) == sorted(h.pk for h in world.a)


def test_filters_desil_uncovered_need_reason(world: GapWorld) -> None:
    client = login(world.secretariat)
    response = client.get(reverse(LIST), {"year": world.year, "region": "33.24", "desil": 1})
    assert names(response) == {"Sutrisno Aman", "Wagiyem Lestari", "Kasmirah Dewi"}
    # Nobody received anything: all uncovered, none covered.
    assert len(names(client.get(reverse(LIST), {"year": world.year, "uncovered": 1}))) == 5
    assert names(client.get(reverse(LIST), {"year": world.year, "uncovered": 0})) == set()
    assert names(client.get(reverse(LIST), {"year": world.year, "overlap": 1})) == set()
    # Reason filter: a household whose head lost the NIK.
    head = world.b[1].members.get()
    GapHouseholdFact.objects.filter(household=world.b[1]).update(no_nik=True)
    assert names(client.get(reverse(LIST), {"year": world.year, "reason": "no_nik"})) == {head.name}
    # Need filter: facts carrying the need unmet.
    rule = NeedRule.objects.order_by("code").first()
    assert rule is not None
    GapHouseholdFact.objects.update(unmet_needs="")
    GapHouseholdFact.objects.filter(household=world.a[2]).update(unmet_needs=f",{rule.code},")
    assert names(client.get(reverse(LIST), {"year": world.year, "need": rule.code})) == {"Darmaji Putra"}
    unknown = client.get(reverse(LIST), {"year": world.year, "need": "tidak-ada"})
    assert unknown.status_code == 200 and "Kebutuhan tidak dikenal" in " ".join(unknown.context["problems"])


def test_bad_filters_are_reported_not_crashing(world: GapWorld) -> None:
    client = login(world.secretariat)
    response = client.get(reverse(LIST), {"year": "abc", "desil": "12", "region": "123"})
    assert response.status_code == 200
    problems = " ".join(response.context["problems"])
    assert "Tahun abc tidak valid" in problems and "Desil harus angka 1 sampai 10" in problems
    assert "Kode wilayah tidak dikenal" in problems


def test_pages_without_count() -> None:
    load_kendal()
    world = build_world(extra_in_a=27)  # 30 households in desa A
    client = login(world.secretariat)
    first = client.get(reverse(LIST), {"year": world.year, "region": world.desa_a.code})
    assert len(first.context["rows"]) == gaplist.PAGE_SIZE and first.context["has_next"]
    html = first.content.decode()
    last_id = first.context["rows"][-1]["fact"].household_id
    assert f"after={last_id}&amp;page=2" in html and "uji=" not in html
    second = client.get(reverse(LIST), {"year": world.year, "region": world.desa_a.code, "after": last_id, "page": 2})
    assert len(second.context["rows"]) == 5 and not second.context["has_next"] and second.context["page"] == 2
    assert not names(first) & names(second)
    assert len(names(first) | names(second)) == 30


def test_partner_sees_only_allocated_households(world: GapWorld) -> None:
    partner = user_with_role(Role.PARTNER, "3324")
    Allocation.objects.create(organization=partner.test_organization, household=world.a[1])
    response = login(partner).get(reverse(LIST), {"year": world.year})
    assert response.status_code == 200
    assert names(response) == {"Wagiyem Lestari"}
    assert "gap-export" not in response.content.decode()  # partners may not export
    assert login(partner).get(reverse(EXPORT), {"year": world.year}).status_code == 403


def test_opd_sees_only_its_region_and_may_not_export(world: GapWorld) -> None:
    opd = user_with_role(Role.OPD_OFFICER, world.desa_b.code[:6])
    response = login(opd).get(reverse(LIST), {"year": world.year})
    assert names(response) == {"Kasmirah Dewi", "Paijo Slamet"}
    outside = login(opd).get(reverse(LIST), {"year": world.year, "region": world.desa_a.code})
    assert names(outside) == set()
    assert login(opd).get(reverse(EXPORT), {"year": world.year}).status_code == 403
    assert not PersonalDataAccess.objects.filter(action=AccessAction.EXPORT).exists()


def test_leadership_may_not_open_the_list(world: GapWorld) -> None:
    leader = user_with_role(Role.LEADERSHIP, "3324")
    assert login(leader).get(reverse(LIST)).status_code == 403
    assert login(leader).get(reverse(EXPORT)).status_code == 403


def test_anonymous_is_sent_to_login(world: GapWorld) -> None:
    response = Client().get(reverse(LIST))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def _sheet(content: bytes) -> list[tuple[object, ...]]:
    workbook = load_workbook(io.BytesIO(content))
    return list(workbook.active.iter_rows(values_only=True))


def test_export_content_full_nik_for_secretariat_and_logged(world: GapWorld) -> None:
    client = login(world.secretariat)
    response = client.get(reverse(EXPORT), {"year": world.year, "region": world.dotted(world.desa_a)})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert f"daftar-kesenjangan-{world.desa_a.code}-{world.year}" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    rows = _sheet(content)
    assert str(rows[1][0]).startswith("Data per ")
    header = rows[gaplist.HEADER_ROW - 1]
    assert header[0] == "ID Keluarga (sistem)" and header[-3:] == ("Status verval", "Tanggal verval", "Keterangan")
    data = rows[gaplist.HEADER_ROW :]
    assert [r[0] for r in data] == [h.pk for h in world.a]
    first = data[0]
    household = world.a[0]
    assert first[1] == "Sutrisno Aman" and first[2] == head_nik(household) and first[3] == household.no_kk
    assert first[5] == f"{household.rt}/{household.rw}" and first[6] == world.desa_a.name and first[7] == 1
    assert first[-3:] == (None, None, None)
    workbook = load_workbook(io.BytesIO(content))
    validations = workbook.active.data_validations.dataValidation
    dropdown = next(v for v in validations if v.type == "list")
    assert all(status in dropdown.formula1 for status in gaplist.VERVAL_STATUSES)
    # The whole column below the header: rows the desa adds get the dropdown too.
    assert str(dropdown.sqref) == f"M{gaplist.HEADER_ROW + 1}:M{gaplist.MAX_ROW}"
    assert any(v.type == "date" and str(v.sqref).startswith("N7:") for v in validations)
    log = PersonalDataAccess.objects.get(action=AccessAction.EXPORT, object_type="gap_list")
    assert log.user == world.secretariat and log.region_code == world.desa_a.code and log.record_count == 3
    assert sorted(log.object_ids) == sorted(h.pk for h in world.a)


def test_export_masks_identifiers_without_the_reveal_capability(world: GapWorld) -> None:
    buffer = io.BytesIO()
    ids: list[int] = []
    filters = selectors.GapListFilters(year=world.year, region=world.desa_b.code)
    count = gaplist.export_write(buffer, user=world.secretariat, filters=filters, reveal=False, ids=ids)
    assert count == 2 and sorted(ids) == sorted(h.pk for h in world.b)
    data = _sheet(buffer.getvalue())[gaplist.HEADER_ROW :]
    household = world.b[0]
    nik = head_nik(household)
    assert data[0][2] == mask_identifier(nik) and data[0][2] != nik and "*" in data[0][2]
    assert data[0][3] == mask_identifier(household.no_kk) and data[0][3] != household.no_kk


def test_export_of_an_empty_selection_is_a_valid_sheet(world: GapWorld) -> None:
    response = login(world.secretariat).get(reverse(EXPORT), {"year": world.year, "desil": 9})
    rows = _sheet(b"".join(response.streaming_content))
    assert len(rows) == gaplist.HEADER_ROW
    assert PersonalDataAccess.objects.get(action=AccessAction.EXPORT).record_count == 0


def test_export_keeps_awkward_text_intact(world: GapWorld) -> None:
    household = world.a[0]
    household.head_name = "Siti <Aminah> & Co \ue000 \x07bel"
    household.address = '  Jl. "Merdeka" 1  '
    household.save()
    buffer = io.BytesIO()
    filters = selectors.GapListFilters(year=world.year, region=world.desa_a.code)
    gaplist.export_write(buffer, user=world.secretariat, filters=filters, reveal=True, ids=[])
    first = _sheet(buffer.getvalue())[gaplist.HEADER_ROW]
    assert first[0] == household.pk
    assert first[1] == "Siti <Aminah> & Co  bel" and first[4] == '  Jl. "Merdeka" 1  '
