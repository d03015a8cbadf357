"""REST API of programs and interventions: CRUD, bulk logging with per-item errors, filters, scoping per
role, query counts on the lists and a clean OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from programs.models import EntryChannel, Intervention, InterventionStatus, Program
from programs.serializers import BULK_MAX_ITEMS
from tests import factories as f
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
PROGRAMS = "/api/v1/programs/"
INTERVENTIONS = "/api/v1/interventions/"
BULK = "/api/v1/interventions/bulk/"


def api(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def officer() -> Any:
    return f.user_with_role(Role.OPD_OFFICER)


@pytest.fixture
def program(officer: Any) -> Program:
    return f.ProgramFactory(organization=officer.test_organization)


@pytest.fixture
def other_officer() -> Any:
    return f.user_with_role(Role.OPD_OFFICER)


@pytest.fixture
def other_program(other_officer: Any) -> Program:
    return f.ProgramFactory(organization=other_officer.test_organization)


@pytest.fixture
def secretariat() -> Any:
    return f.user_with_role(Role.SECRETARIAT)


@pytest.fixture
def leadership() -> Any:
    return f.user_with_role(Role.LEADERSHIP)


def item(program: Program, **kw: Any) -> dict[str, Any]:
    kw.setdefault("delivered_on", TODAY.isoformat())
    return {"program": program.pk, **kw}


# ---------------------------------------------------------------------------------------------- programs


def test_program_list_is_scoped_and_annotated(officer: Any, program: Program, other_program: Program) -> None:
    household = f.HouseholdFactory()
    f.InterventionFactory(program=program, household=household, value=300_000)
    f.InterventionFactory(program=program, status=InterventionStatus.PLANNED)

    response = api(officer).get(PROGRAMS)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["id"] for r in rows] == [program.pk]
    assert rows[0]["reached"] == 1
    assert Decimal(rows[0]["realised_value"]) == Decimal(300_000)
    assert rows[0]["cluster"] == "klaster-1" and rows[0]["organization"] == officer.test_organization.pk


def test_secretariat_sees_every_program_of_its_region(
    secretariat: Any, program: Program, other_program: Program
) -> None:
    f.ProgramFactory(organization=f.OrganizationFactory(region=f.region("6402")))
    rows = api(secretariat).get(PROGRAMS).json()["results"]
    assert {r["id"] for r in rows} == {program.pk, other_program.pk}


def test_program_list_query_count_does_not_grow(
    officer: Any, program: Program, django_assert_max_num_queries: Any
) -> None:
    targets = [f.region("332401"), f.region("332402")]
    for _ in range(8):
        other = f.ProgramFactory(organization=officer.test_organization, target_regions=targets)
        f.InterventionFactory(program=other)
    client = api(officer)
    client.get(PROGRAMS)  # session and scope warm-up is not what is measured
    with django_assert_max_num_queries(5):
        response = client.get(PROGRAMS)
    rows = response.json()["results"]
    assert len(rows) == 9
    assert sorted(r["target_regions"] for r in rows)[-1] == ["332401", "332402"]


def test_program_filters(officer: Any, program: Program) -> None:
    last_year = f.ProgramFactory(organization=officer.test_organization, year=TODAY.year - 1, name="Bedah Rumah")
    client = api(officer)
    assert [r["id"] for r in client.get(PROGRAMS, {"year": TODAY.year - 1}).json()["results"]] == [last_year.pk]
    assert [r["id"] for r in client.get(PROGRAMS, {"q": "bedah"}).json()["results"]] == [last_year.pk]
    assert client.get(PROGRAMS, {"cluster": "tidak-ada"}).json()["results"] == []


def test_program_retrieve_of_another_agency_is_404(officer: Any, other_program: Program) -> None:
    assert api(officer).get(f"{PROGRAMS}{other_program.pk}/").status_code == 404


def program_payload(**kw: Any) -> dict[str, Any]:
    f.reference(f.ProgramCluster, "klaster-2")
    f.reference(f.ProgramStrategy, "kurangi-beban")
    f.reference(f.AssistanceKind, "pangan")
    payload = {
        "code": "bpnt-daerah",
        "name": "Bantuan Pangan Daerah",
        "year": TODAY.year,
        "cluster": "klaster-2",
        "strategy": "kurangi-beban",
        "assistance_kind": "pangan",
        "funding_source": "apbd",
        "budget": "50000000",
        "unit_value": "200000",
        "target_households": 100,
        "target_regions": ["33.24.01"],
        "starts_on": f"{TODAY.year}-01-01",
        "ends_on": f"{TODAY.year}-12-31",
    }
    payload.update(kw)
    return payload


def test_officer_creates_a_program_for_its_own_agency(officer: Any) -> None:
    response = api(officer).post(PROGRAMS, program_payload(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    program = Program.objects.get(pk=body["id"])
    assert program.organization == officer.test_organization
    assert program.created_by == officer
    assert body["target_regions"] == ["332401"]
    assert body["reached"] == 0 and body["cluster"] == "klaster-2"


def test_officer_cannot_create_for_another_organization(officer: Any, other_officer: Any) -> None:
    payload = program_payload(organization=other_officer.test_organization.pk)
    response = api(officer).post(PROGRAMS, payload, format="json")
    assert response.status_code == 400
    assert "organization" in response.json()
    assert not Program.objects.exists()


def test_secretariat_creates_for_any_organization_of_its_region(secretariat: Any, other_officer: Any) -> None:
    payload = program_payload(organization=other_officer.test_organization.pk)
    response = api(secretariat).post(PROGRAMS, payload, format="json")
    assert response.status_code == 201, response.json()
    assert Program.objects.get().organization == other_officer.test_organization


def test_program_create_refusals(officer: Any, program: Program) -> None:
    client = api(officer)
    duplicate = client.post(PROGRAMS, program_payload(code=program.code), format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["code"] == "invalid"
    unknown_region = client.post(PROGRAMS, program_payload(target_regions=["99.99.99"]), format="json")
    assert unknown_region.status_code == 400
    assert "target_regions" in unknown_region.json()
    f.region("6402")
    outside = client.post(PROGRAMS, program_payload(target_regions=["64.02.01"]), format="json")
    assert outside.status_code == 400
    assert outside.json()["code"] == "target_region_outside"
    assert Program.objects.count() == 1


def test_program_partial_update(officer: Any, program: Program, other_program: Program) -> None:
    client = api(officer)
    response = client.patch(
        f"{PROGRAMS}{program.pk}/", {"name": "Nama Baru", "target_regions": ["3324012001"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    program.refresh_from_db()
    assert program.name == "Nama Baru"
    assert list(program.target_regions.values_list("code", flat=True)) == ["3324012001"]
    assert client.patch(f"{PROGRAMS}{other_program.pk}/", {"name": "X"}, format="json").status_code == 404
    assert client.put(f"{PROGRAMS}{program.pk}/", program_payload(), format="json").status_code == 405
    assert client.delete(f"{PROGRAMS}{program.pk}/").status_code == 405


def test_partner_manages_only_its_own_programs(program: Program) -> None:
    partner = f.user_with_role(Role.PARTNER)
    own = f.ProgramFactory(organization=partner.test_organization, funding_source="csr")
    client = api(partner)
    assert [r["id"] for r in client.get(PROGRAMS).json()["results"]] == [own.pk]
    assert client.patch(f"{PROGRAMS}{program.pk}/", {"name": "X"}, format="json").status_code == 404
    created = client.post(PROGRAMS, program_payload(code="csr-1", funding_source="csr"), format="json")
    assert created.status_code == 201
    assert created.json()["organization"] == partner.test_organization.pk


def test_leadership_has_no_api_access(leadership: Any, program: Program) -> None:
    client = api(leadership)
    assert client.get(PROGRAMS).status_code == 403
    assert client.get(f"{PROGRAMS}{program.pk}/").status_code == 403
    assert client.post(PROGRAMS, program_payload(code="x"), format="json").status_code == 403
    assert client.patch(f"{PROGRAMS}{program.pk}/", {"name": "X"}, format="json").status_code == 403
    assert client.get(INTERVENTIONS).status_code == 403
    assert client.post(BULK, {"items": [item(program, household=1)]}, format="json").status_code == 403
    assert not Intervention.objects.exists()


def test_anonymous_is_refused(program: Program) -> None:
    assert APIClient().get(PROGRAMS).status_code in (401, 403)
    assert APIClient().get(INTERVENTIONS).status_code in (401, 403)


# ------------------------------------------------------------------------------------ interventions: one


def test_create_by_household_id(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory(desil=1)
    head = f.PersonFactory(household=household)

    response = api(officer).post(INTERVENTIONS, item(program, household=household.pk, note="tahap 1"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    iv = Intervention.objects.get(pk=body["id"])
    assert iv.channel == EntryChannel.API and iv.entered_by == officer
    assert iv.value == program.unit_value
    assert body["household"] == {
        "id": household.pk,
        "head_name": household.head_name,
        "desa": "3324012001",
        "desa_name": household.desa.name,
    }
    assert body["warnings"] == [] and body["has_evidence"] is False
    assert head.nik not in response.content.decode()


def test_create_by_id_keluarga_and_by_nik(officer: Any, program: Program) -> None:
    linked = f.HouseholdSourceLinkFactory(external_id="3324010100123")
    member = f.PersonFactory()
    other_program = f.ProgramFactory(organization=officer.test_organization)
    client = api(officer)

    by_link = client.post(INTERVENTIONS, item(program, id_keluarga=" 3324010100123 "), format="json")
    by_nik = client.post(INTERVENTIONS, item(other_program, nik=f"'{member.nik}"), format="json")

    assert by_link.status_code == 201, by_link.json()
    assert by_link.json()["household"]["id"] == linked.household_id
    assert by_nik.status_code == 201, by_nik.json()
    assert by_nik.json()["household"]["id"] == member.household_id
    assert member.nik not in by_nik.content.decode()


@pytest.mark.parametrize(
    "refs",
    [{}, {"household": 1, "nik": "3324010101850001"}, {"id_keluarga": "", "nik": ""}],
    ids=["none", "two", "blank"],
)
def test_create_needs_exactly_one_household_reference(officer: Any, program: Program, refs: dict[str, Any]) -> None:
    response = api(officer).post(INTERVENTIONS, item(program, **refs), format="json")
    assert response.status_code == 400
    assert "household" in response.json()


def test_unknown_references_are_refused_with_a_code(officer: Any, program: Program) -> None:
    client = api(officer)
    unknown_nik = client.post(INTERVENTIONS, item(program, nik="3324010101850009"), format="json")
    assert unknown_nik.status_code == 400
    assert unknown_nik.json()["code"] == "household_not_found"
    assert "3324010101850009" not in unknown_nik.content.decode()
    unknown_id = client.post(INTERVENTIONS, item(program, household=999_999_999), format="json")
    assert unknown_id.json()["code"] == "household_not_found"


def test_duplicate_is_refused_with_the_existing_id(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory()
    client = api(officer)
    first = client.post(INTERVENTIONS, item(program, household=household.pk), format="json").json()

    response = client.post(INTERVENTIONS, item(program, household=household.pk), format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "duplicate"
    assert body["extra"] == {"existing_id": first["id"]}
    assert f"#{first['id']}" in body["message"]


def test_rule_warnings_are_returned(officer: Any) -> None:
    program = f.ProgramFactory(organization=officer.test_organization, max_desil=2)
    household = f.HouseholdFactory(desil=4)
    response = api(officer).post(INTERVENTIONS, item(program, household=household.pk), format="json")
    assert response.status_code == 201
    assert [w["code"] for w in response.json()["warnings"]] == ["desil_above_max"]


def test_officer_cannot_log_into_another_agencys_program(officer: Any, other_program: Program) -> None:
    household = f.HouseholdFactory()
    response = api(officer).post(INTERVENTIONS, item(other_program, household=household.pk), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "program_not_found"
    assert not Intervention.objects.exists()


def test_household_outside_the_officers_region_is_not_found(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory(desa=f.desa("6402012001"))
    response = api(officer).post(INTERVENTIONS, item(program, household=household.pk), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "household_not_found"


def test_person_must_belong_to_the_household(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory()
    stranger = f.PersonFactory()
    response = api(officer).post(
        INTERVENTIONS, item(program, household=household.pk, person=stranger.pk), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "person_mismatch"


def test_multipart_create_with_evidence(officer: Any, program: Program, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    household = f.HouseholdFactory()
    evidence = SimpleUploadedFile("bukti.pdf", b"%PDF-1.4 bukti", content_type="application/pdf")

    response = api(officer).post(
        INTERVENTIONS, item(program, household=household.pk, evidence=evidence), format="multipart"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["has_evidence"] is True
    iv = Intervention.objects.get()
    assert iv.evidence.name.endswith(".pdf")
    assert Path(iv.evidence.path).read_bytes() == b"%PDF-1.4 bukti"


def test_multipart_form_with_blank_fields(officer: Any, program: Program) -> None:
    """A form sends every field; blank ones count as not given."""
    member = f.PersonFactory()
    form = item(program, household="", id_keluarga="", nik=member.nik, person="", value="", note="")
    response = api(officer).post(INTERVENTIONS, form, format="multipart")
    assert response.status_code == 201, response.json()
    assert response.json()["household"]["id"] == member.household_id
    assert Intervention.objects.get().value == program.unit_value


def test_evidence_of_the_wrong_type_is_refused(officer: Any, program: Program, settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path
    household = f.HouseholdFactory()
    evidence = SimpleUploadedFile("bukti.exe", b"MZ", content_type="application/octet-stream")
    response = api(officer).post(
        INTERVENTIONS, item(program, household=household.pk, evidence=evidence), format="multipart"
    )
    assert response.status_code == 400
    assert "evidence" in response.json()
    assert not Intervention.objects.exists()


def test_new_record_cannot_be_cancelled_status(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory()
    response = api(officer).post(
        INTERVENTIONS, item(program, household=household.pk, status="cancelled"), format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_status"


# ------------------------------------------------------------------------------------------- cancel


def test_cancel_with_a_reason(officer: Any, program: Program) -> None:
    iv = f.InterventionFactory(program=program)
    client = api(officer)

    no_reason = client.post(f"{INTERVENTIONS}{iv.pk}/cancel/", {"reason": " "}, format="json")
    assert no_reason.status_code == 400
    assert no_reason.json()["code"] == "cancel_reason_required"

    response = client.post(f"{INTERVENTIONS}{iv.pk}/cancel/", {"reason": "Salah sasaran"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_reason"] == "Salah sasaran"
    again = client.post(f"{INTERVENTIONS}{iv.pk}/cancel/", {"reason": "lagi"}, format="json")
    assert again.json()["code"] == "already_cancelled"


def test_cancel_of_another_agencys_record_is_404(officer: Any, other_program: Program) -> None:
    iv = f.InterventionFactory(program=other_program)
    response = api(officer).post(f"{INTERVENTIONS}{iv.pk}/cancel/", {"reason": "x"}, format="json")
    assert response.status_code == 404
    iv.refresh_from_db()
    assert iv.status == InterventionStatus.DELIVERED


# ---------------------------------------------------------------------------------------------- bulk


def test_bulk_all_created_is_201(officer: Any, program: Program) -> None:
    households = f.HouseholdFactory.create_batch(3)
    items = [item(program, household=h.pk) for h in households]
    response = api(officer).post(BULK, {"items": items}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["failed"]) == (3, 0)
    assert all(r["error"] is None and r["id"] for r in body["results"])
    assert set(Intervention.objects.values_list("channel", flat=True)) == {EntryChannel.API}


def test_bulk_mixed_items_report_each(officer: Any, program: Program, other_program: Program) -> None:
    good, twice, linked_household = f.HouseholdFactory.create_batch(3)
    f.HouseholdSourceLinkFactory(household=linked_household, external_id="ID-KEL-1")
    member = f.PersonFactory()
    # The same NIK on two cards: the reference is ambiguous.
    f.PersonFactory(nik=member.nik, household=f.HouseholdFactory())
    items: list[Any] = [
        item(program, household=good.pk),  # 0 ok
        item(program, household=twice.pk),  # 1 ok
        item(program, household=twice.pk),  # 2 duplicate of 1
        item(other_program, household=good.pk),  # 3 another agency's program
        {"program": program.pk, "household": good.pk},  # 4 no date
        "not an object",  # 5
        item(program, household=good.pk, delivered_on=(TODAY + dt.timedelta(days=3)).isoformat()),  # 6 future
        item(program, id_keluarga="ID-KEL-1"),  # 7 ok
        item(program, nik=member.nik),  # 8 ambiguous
        item(program, id_keluarga="TIDAK-ADA"),  # 9 unknown
    ]

    response = api(officer).post(BULK, {"items": items}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["created"], body["failed"]) == (3, 7)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(10))
    codes = [r["error"]["code"] if r["error"] else None for r in results]
    assert codes == [
        None,
        None,
        "duplicate",
        "program_not_found",
        "invalid",
        "invalid",
        "future_date",
        None,
        "household_ambiguous",
        "household_not_found",
    ]
    assert results[2]["error"]["extra"] == {"existing_id": results[1]["id"]}
    assert "delivered_on" in results[4]["error"]["extra"]["fields"]
    assert results[2]["id"] is None and results[2]["warnings"] == []
    created = set(Intervention.objects.values_list("id", flat=True))
    assert created == {results[0]["id"], results[1]["id"], results[7]["id"]}
    assert member.nik not in response.content.decode()


def test_bulk_limits(officer: Any, program: Program) -> None:
    client = api(officer)
    too_many = client.post(BULK, {"items": [item(program, household=1)] * (BULK_MAX_ITEMS + 1)}, format="json")
    assert too_many.status_code == 400
    body = too_many.json()
    assert body["code"] == "too_many_items"
    assert "spreadsheet" in body["message"]
    assert body["extra"] == {"max_items": BULK_MAX_ITEMS, "received": BULK_MAX_ITEMS + 1}
    assert client.post(BULK, {"items": []}, format="json").status_code == 400
    assert client.post(BULK, {"rows": []}, format="json").status_code == 400
    assert client.post(BULK, [item(program, household=1)], format="json").status_code == 400
    assert not Intervention.objects.exists()


def test_bulk_resolves_references_once_per_batch(officer: Any, program: Program) -> None:
    """Programs, households and members are looked up once for the batch; the rest is the per-item service."""

    def run(n: int) -> tuple[int, int]:
        households = f.HouseholdFactory.create_batch(n)
        links = [f.HouseholdSourceLinkFactory(household=h) for h in households]
        members = [f.PersonFactory(household=h) for h in households]
        items = [item(program, household=h.pk) for h in households[: n // 3]]
        items += [item(program, id_keluarga=link.external_id) for link in links[n // 3 : 2 * n // 3]]
        items += [item(program, nik=p.nik, person=p.pk) for p in members[2 * n // 3 :]]
        client = api(officer)
        client.get(PROGRAMS)
        with CaptureQueriesContext(connection) as ctx:
            response = client.post(BULK, {"items": items}, format="json")
        assert response.status_code == 201, response.json()
        lookups = [q["sql"] for q in ctx.captured_queries if "UNION" in q["sql"].upper()]
        return len(ctx.captured_queries), len(lookups)

    small, small_lookups = run(3)
    large, large_lookups = run(12)
    assert small_lookups == large_lookups == 1
    per_item = (large - small) / 9
    assert per_item <= 10, f"{per_item} queries per item"


# -------------------------------------------------------------------------------------- list and filters


def test_intervention_list_is_scoped(officer: Any, program: Program, other_program: Program) -> None:
    mine = f.InterventionFactory(program=program)
    theirs = f.InterventionFactory(program=other_program)
    secretariat = f.user_with_role(Role.SECRETARIAT)

    assert [r["id"] for r in api(officer).get(INTERVENTIONS).json()["results"]] == [mine.pk]
    assert api(officer).get(f"{INTERVENTIONS}{theirs.pk}/").status_code == 404
    assert {r["id"] for r in api(secretariat).get(INTERVENTIONS).json()["results"]} == {mine.pk, theirs.pk}


def test_partner_sees_and_logs_only_allocated_households() -> None:
    partner = f.user_with_role(Role.PARTNER)
    program = f.ProgramFactory(organization=partner.test_organization, funding_source="csr")
    allocated = f.AllocationFactory(organization=partner.test_organization).household
    not_allocated = f.HouseholdFactory()
    client = api(partner)

    ok = client.post(INTERVENTIONS, item(program, household=allocated.pk), format="json")
    refused = client.post(INTERVENTIONS, item(program, household=not_allocated.pk), format="json")

    assert ok.status_code == 201
    assert refused.status_code == 400 and refused.json()["code"] == "household_not_found"
    f.InterventionFactory(household=not_allocated)  # an OPD's delivery: not the partner's
    assert [r["id"] for r in client.get(INTERVENTIONS).json()["results"]] == [ok.json()["id"]]


def test_intervention_filters(officer: Any, program: Program) -> None:
    second = f.ProgramFactory(organization=officer.test_organization, year=TODAY.year - 1)
    blumah = f.HouseholdFactory()
    elsewhere = f.HouseholdFactory(desa=f.desa("3324022002"))
    a = f.InterventionFactory(program=program, household=blumah, delivered_on=dt.date(TODAY.year, 1, 15))
    b = f.InterventionFactory(
        program=program, household=elsewhere, delivered_on=dt.date(TODAY.year, 2, 1), status="planned"
    )
    c = f.InterventionFactory(program=second, household=blumah, delivered_on=dt.date(TODAY.year - 1, 6, 1))
    client = api(officer)

    def ids(**params: Any) -> set[int]:
        response = client.get(INTERVENTIONS, params)
        assert response.status_code == 200, response.json()
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {a.pk, b.pk, c.pk}
    assert ids(program=program.pk) == {a.pk, b.pk}
    assert ids(household=blumah.pk) == {a.pk, c.pk}
    assert ids(desa="33.24.01") == {a.pk, c.pk}
    assert ids(desa="3324022002") == {b.pk}
    assert ids(desa="33") == {a.pk, b.pk, c.pk}
    assert ids(desa="xyz") == set()
    assert ids(status="planned") == {b.pk}
    assert ids(year=TODAY.year - 1) == {c.pk}
    assert ids(delivered_on_after=f"{TODAY.year}-01-20") == {b.pk}
    assert ids(delivered_on_before=f"{TODAY.year}-01-20") == {a.pk, c.pk}
    assert ids(channel="api") == set()
    assert client.get(INTERVENTIONS, {"status": "hilang"}).status_code == 400


def test_intervention_list_query_count(officer: Any, program: Program, django_assert_max_num_queries: Any) -> None:
    for household in f.HouseholdFactory.create_batch(3, desa=f.desa("3324022002")):
        f.InterventionFactory(program=program, household=household)
    f.InterventionFactory.create_batch(12, program=program)
    client = api(officer)
    client.get(INTERVENTIONS)
    with django_assert_max_num_queries(4):
        response = client.get(INTERVENTIONS, {"page_size": 50})
    rows = response.json()["results"]
    assert len(rows) == 15
    assert {r["household"]["desa_name"] for r in rows} == {f.desa().name, f.desa("3324022002").name}


def test_list_never_carries_a_nik(officer: Any, program: Program) -> None:
    member = f.PersonFactory()
    f.InterventionFactory(program=program, household=member.household, person=member)
    body = api(officer).get(INTERVENTIONS).content.decode()
    assert member.nik not in body and member.household.no_kk not in body


# ---------------------------------------------------------------------------------------------- schema


def test_openapi_schema_has_the_endpoints_and_no_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"
    # --fail-on-warn raises on any warning (enum name collisions included).
    call_command("spectacular", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/programs/:",
        "/api/v1/programs/{id}/:",
        "/api/v1/interventions/:",
        "/api/v1/interventions/bulk/:",
        "/api/v1/interventions/{id}/cancel/:",
    ):
        assert path in text
    assert "InterventionStatusEnum" in text
    assert "multipart/form-data" in text
