"""Program portal pages: "Program saya", overview, program page, create/edit, logging one intervention."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from programs.models import Intervention, InterventionStatus, OutsideRegionPolicy, Program
from tests import factories as f
from tkpk.models import AccessAction, PersonalDataAccess
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

TODAY = dt.date.today()
OTHER_KEC_DESA = "3324022002"  # Getasblawong, Kec. Pageruyung


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def officer() -> Any:
    return f.user_with_role(Role.OPD_OFFICER, first_name="Ani")


@pytest.fixture
def secretariat() -> Any:
    return f.user_with_role(Role.SECRETARIAT)


@pytest.fixture
def leadership() -> Any:
    return f.user_with_role(Role.LEADERSHIP)


@pytest.fixture
def program(officer: Any) -> Program:
    return f.ProgramFactory(organization=officer.test_organization, name="Bantuan Pangan Lansia", target_households=4)


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ------------------------------------------------------------------------------------------------- list


def test_officer_sees_program_saya_with_realisation(officer: Any, program: Program) -> None:
    other = f.ProgramFactory(name="Program Dinas Lain")
    for household in f.HouseholdFactory.create_batch(2):
        f.InterventionFactory(program=program, household=household, value=250_000)
    f.InterventionFactory(program=program, status=InterventionStatus.PLANNED)  # planned: not realised
    response = client_for(officer).get(reverse("programs:list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Program saya" in html
    assert program.name in html
    assert other.name not in html
    row = next(p for p in response.context["programs"] if p.pk == program.pk)
    assert (row.reached, row.realised_value) == (2, Decimal(500_000))
    assert "2 / 4" in html
    assert "50%" in html
    assert "Rp 500.000" in html


def test_list_defaults_to_this_year_and_filters(officer: Any, program: Program) -> None:
    old = f.ProgramFactory(organization=officer.test_organization, year=TODAY.year - 1, name="Program Tahun Lalu")
    client = client_for(officer)
    html = client.get(reverse("programs:list")).content.decode()
    assert program.name in html and old.name not in html
    html = client.get(reverse("programs:list"), {"year": ""}).content.decode()
    assert program.name in html and old.name in html
    html = client.get(reverse("programs:list"), {"year": "", "q": "lalu"}).content.decode()
    assert program.name not in html and old.name in html


def test_secretariat_sees_every_program_of_its_region_only(secretariat: Any, program: Program) -> None:
    outside = f.ProgramFactory(organization=f.OrganizationFactory(region=f.region(f.KUTAI_KARTANEGARA)))
    response = client_for(secretariat).get(reverse("programs:list"))
    html = response.content.decode()
    assert program.name in html
    assert program.organization.name in html
    assert outside.name not in html
    assert response.context["title"] == "Program"


def test_program_list_has_no_n_plus_one(secretariat: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(3):
        f.InterventionFactory()
    client = client_for(secretariat)
    client.get(reverse("programs:list"))  # warm session and caches
    with django_assert_max_num_queries(14) as few:
        assert client.get(reverse("programs:list")).status_code == 200
    for _ in range(12):
        f.InterventionFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("programs:list"))
    assert len(response.context["programs"]) == 15


def test_overview_groups_by_cluster_strategy_organization_and_funding(
    secretariat: Any, program: Program, django_assert_max_num_queries: Any
) -> None:
    f.InterventionFactory(program=program)
    f.ProgramFactory(funding_source="apbn", budget=50_000_000)
    client = client_for(secretariat)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("programs:overview"))
    assert response.status_code == 200
    sections = {s["key"]: s for s in response.context["sections"]}
    assert set(sections) == {"cluster", "strategy", "organization", "funding_source"}
    funding = {row.key: row for row in sections["funding_source"]["rows"]}
    assert funding["apbd"].reached == 1
    assert funding["apbn"].budget == Decimal(50_000_000)
    assert sections["organization"]["total"]["programs"] == 2
    assert "APBN" in response.content.decode()


# ----------------------------------------------------------------------------------------------- detail


def test_detail_shows_realisation_by_kecamatan_and_interventions(officer: Any, program: Program) -> None:
    a = f.InterventionFactory(program=program, household=f.HouseholdFactory(head_name="Siti Aminah"))
    f.InterventionFactory(program=program, household=f.HouseholdFactory(desa=f.desa(OTHER_KEC_DESA)))
    response = client_for(officer).get(reverse("programs:detail", args=[program.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    names = [row.name for row in response.context["by_kecamatan"]]
    assert names == ["Plantungan", "Pageruyung"]
    assert "Siti Aminah" in html
    assert f'data-intervention="{a.pk}"' in html
    assert reverse("programs:intervention-cancel", args=[a.pk]) in html
    assert response.context["can_edit"] and response.context["can_log"]
    assert "block program_actions" not in html


def test_detail_pages_interventions_without_counting(
    officer: Any, program: Program, django_assert_max_num_queries: Any
) -> None:
    for household in f.HouseholdFactory.create_batch(30):
        f.InterventionFactory(program=program, household=household)
    client = client_for(officer)
    url = reverse("programs:detail", args=[program.pk])
    client.get(url)
    with django_assert_max_num_queries(16) as captured:
        response = client.get(url)
    assert len(response.context["table"].page.object_list) == 25
    sqls = [q["sql"] for q in captured.captured_queries]
    assert not any('AS "__count"' in sql and "programs_intervention" in sql for sql in sqls)  # no paginator count
    # Ids first (narrow top-N, no join), then the page's rows with their joins by primary key.
    page_ids = [sql for sql in sqls if "LIMIT 26" in sql and "programs_intervention" in sql]
    assert len(page_ids) == 1 and "JOIN" not in page_ids[0]
    page2 = client.get(url, {"page": 2})
    assert len(page2.context["table"].page.object_list) == 5


def test_detail_filters_interventions(officer: Any, program: Program) -> None:
    f.InterventionFactory(program=program, household=f.HouseholdFactory(head_name="Warsini"))
    f.InterventionFactory(program=program, household=f.HouseholdFactory(head_name="Sutrisno"))
    html = client_for(officer).get(reverse("programs:detail", args=[program.pk]), {"q": "wars"}).content.decode()
    assert "Warsini" in html and "Sutrisno" not in html


def test_leadership_reads_realisation_but_never_names(leadership: Any, program: Program) -> None:
    household = f.HouseholdFactory(head_name="Siti Aminah")
    f.InterventionFactory(program=program, household=household)
    client = client_for(leadership)
    assert program.name in client.get(reverse("programs:list")).content.decode()
    assert client.get(reverse("programs:overview")).status_code == 200
    response = client.get(reverse("programs:detail", args=[program.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "1 / 4" in html
    assert "Siti Aminah" not in html
    assert "table" not in response.context
    assert reverse("programs:log") not in html
    assert reverse("programs:update", args=[program.pk]) not in html
    for url in (
        reverse("programs:log"),
        reverse("programs:create"),
        reverse("programs:update", args=[program.pk]),
        reverse("programs:household-finder") + "?q=Siti",
        reverse("programs:household-panel", args=[household.pk]),
    ):
        assert client.get(url).status_code == 403, url
    iv = Intervention.objects.get()
    assert client.post(reverse("programs:intervention-cancel", args=[iv.pk]), {"reason": "x"}).status_code == 403


def test_other_agency_program_is_not_found(officer: Any) -> None:
    other = f.ProgramFactory()
    client = client_for(officer)
    assert client.get(reverse("programs:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("programs:update", args=[other.pk])).status_code == 404


def test_anonymous_is_sent_to_login() -> None:
    response = Client().get(reverse("programs:list"))
    assert response.status_code == 302
    assert "/akun/masuk/" in response["Location"]


# --------------------------------------------------------------------------------------- create / edit


def program_post(organization: Any, **over: Any) -> dict[str, Any]:
    cluster = f.reference(f.ProgramCluster, "klaster-1")
    strategy = f.reference(f.ProgramStrategy, "kurangi-beban")
    kind = f.reference(f.AssistanceKind, "pangan")
    data = {
        "organization": organization.pk,
        "code": "rtlh-2026",
        "name": "Bedah Rumah",
        "year": TODAY.year,
        "cluster": cluster.pk,
        "strategy": strategy.pk,
        "assistance_kind": kind.pk,
        "funding_source": "apbd",
        "budget": "1500000000",
        "unit_value": "15000000",
        "target_households": "100",
        "outside_region_policy": "warn",
        "starts_on": f"{TODAY.year}-01-01",
        "ends_on": f"{TODAY.year}-12-31",
        "once_per_year": "on",
        "is_active": "on",
    }
    data.update(over)
    return data


def test_officer_creates_own_program(officer: Any) -> None:
    client = client_for(officer)
    form = client.get(reverse("programs:create")).context["form"]
    assert list(form.fields["organization"].queryset) == [officer.test_organization]
    kec = f.region("332401")
    response = client.post(reverse("programs:create"), program_post(officer.test_organization, target_regions=[kec.pk]))
    program = Program.objects.get(code="rtlh-2026")
    assert response.status_code == 302
    assert response["Location"] == reverse("programs:detail", args=[program.pk])
    assert program.organization == officer.test_organization
    assert program.created_by == officer
    assert list(program.target_regions.all()) == [kec]


def test_officer_cannot_create_for_another_organization(officer: Any) -> None:
    other = f.OrganizationFactory(opd=True)
    response = client_for(officer).post(reverse("programs:create"), program_post(other))
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not Program.objects.exists()


def test_secretariat_creates_for_any_organization_of_its_region(secretariat: Any) -> None:
    dinsos = f.OrganizationFactory(opd=True, name="Dinas Sosial")
    response = client_for(secretariat).post(reverse("programs:create"), program_post(dinsos))
    assert response.status_code == 302
    assert Program.objects.get().organization == dinsos


def test_program_form_errors_beside_fields(officer: Any, program: Program) -> None:
    data = program_post(officer.test_organization, code=program.code, ends_on=f"{TODAY.year - 1}-12-31")
    response = client_for(officer).post(reverse("programs:create"), data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "ends_on" in errors
    assert errors["code"] == [f"Kode {program.code} sudah dipakai program lain tahun {TODAY.year}."]
    assert not response.context["form"].non_field_errors()
    html = response.content.decode()
    assert 'data-testid="error-ends_on"' in html
    assert Program.objects.count() == 1


def test_update_program_through_service(officer: Any, program: Program) -> None:
    data = program_post(officer.test_organization, code=program.code, name="Bantuan Pangan Lansia Terpadu")
    response = client_for(officer).post(reverse("programs:update", args=[program.pk]), data)
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.name == "Bantuan Pangan Lansia Terpadu"


def test_leadership_sees_no_manage_links(leadership: Any) -> None:
    html = client_for(leadership).get(reverse("programs:list")).content.decode()
    assert reverse("programs:create") not in html
    assert reverse("programs:log") not in html


# ------------------------------------------------------------------------------------- log intervention


def log_post(program: Program, household: Any, **over: Any) -> dict[str, Any]:
    data = {
        "program": program.pk,
        "household": household.pk,
        "status": "delivered",
        "delivered_on": TODAY.isoformat(),
        "value": "",
        "quantity": "1",
        "note": "",
    }
    data.update(over)
    return data


def test_log_delivery_saves_and_redirects_to_program(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory(desil=1, head_name="Siti Aminah")
    response = client_for(officer).post(reverse("programs:log"), log_post(program, household))
    assert response.status_code == 302
    assert response["Location"] == reverse("programs:detail", args=[program.pk])
    iv = Intervention.objects.get()
    assert (iv.household, iv.value, iv.entered_by, iv.channel) == (household, program.unit_value, officer, "form")
    assert any("Siti Aminah" in m for m in messages_of(response))


def test_log_again_returns_to_the_form_with_the_program(officer: Any, program: Program) -> None:
    response = client_for(officer).post(
        reverse("programs:log"), log_post(program, f.HouseholdFactory(), next="again", value="300000")
    )
    assert response["Location"] == f"{reverse('programs:log')}?program={program.pk}"
    assert Intervention.objects.get().value == Decimal(300_000)


def test_log_with_person_and_evidence(officer: Any, program: Program, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    person = f.PersonFactory()
    evidence = SimpleUploadedFile("bukti.pdf", b"%PDF-1.4 bukti", content_type="application/pdf")
    data = log_post(program, person.household, person=person.pk, evidence=evidence)
    response = client_for(officer).post(reverse("programs:log"), data)
    assert response.status_code == 302
    iv = Intervention.objects.get()
    assert iv.person == person
    assert iv.evidence.name.endswith(".pdf")


def test_log_refuses_person_of_another_household(officer: Any, program: Program) -> None:
    person = f.PersonFactory()
    response = client_for(officer).post(
        reverse("programs:log"), log_post(program, f.HouseholdFactory(), person=person.pk)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["person"]
    assert not Intervention.objects.exists()


def test_log_future_date_error_beside_the_date(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory()
    future = TODAY + dt.timedelta(days=2)
    if future.year != TODAY.year:
        pytest.skip("end of year: the period rule fires instead")
    response = client_for(officer).post(
        reverse("programs:log"), log_post(program, household, delivered_on=future.isoformat())
    )
    assert response.status_code == 200
    assert "masa depan" in response.context["form"].errors["delivered_on"][0]
    html = response.content.decode()
    assert 'data-testid="error-delivered_on"' in html
    # The chosen household stays on the page.
    assert 'data-testid="household-panel"' in html
    assert not Intervention.objects.exists()


def test_log_duplicate_names_the_existing_record(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory()
    first = f.InterventionFactory(program=program, household=household, entered_by=officer)
    response = client_for(officer).post(reverse("programs:log"), log_post(program, household))
    assert response.status_code == 200
    error = response.context["form"].errors["household"][0]
    assert f"#{first.pk}" in error and program.code in error
    assert 'data-testid="error-household"' in response.content.decode()
    assert Intervention.objects.count() == 1


def test_log_outside_target_region_warns_after_save(officer: Any, program: Program) -> None:
    program.target_regions.set([f.region("332401")])
    household = f.HouseholdFactory(desa=f.desa(OTHER_KEC_DESA))
    response = client_for(officer).post(reverse("programs:log"), log_post(program, household))
    assert response.status_code == 302
    assert any("luar wilayah sasaran" in m for m in messages_of(response))
    assert Intervention.objects.count() == 1


def test_log_outside_target_region_refused_when_configured(officer: Any, program: Program) -> None:
    program.target_regions.set([f.region("332401")])
    Program.objects.filter(pk=program.pk).update(outside_region_policy=OutsideRegionPolicy.REFUSE)
    household = f.HouseholdFactory(desa=f.desa(OTHER_KEC_DESA))
    response = client_for(officer).post(reverse("programs:log"), log_post(program, household))
    assert response.status_code == 200
    assert "luar wilayah sasaran" in response.context["form"].errors["household"][0]
    assert not Intervention.objects.exists()


def test_log_without_household_asks_for_one(officer: Any, program: Program) -> None:
    data = log_post(program, f.HouseholdFactory())
    data["household"] = ""
    response = client_for(officer).post(reverse("programs:log"), data)
    assert response.status_code == 200
    assert response.context["form"].errors["household"] == ["Cari dan pilih keluarga penerima."]


def test_log_form_offers_only_own_active_programs(officer: Any, program: Program) -> None:
    f.ProgramFactory(name="Program Dinas Lain")
    f.ProgramFactory(organization=officer.test_organization, is_active=False, name="Program Nonaktif")
    response = client_for(officer).get(reverse("programs:log"), {"program": program.pk})
    form = response.context["form"]
    assert list(form.fields["program"].queryset) == [program]
    assert form.initial["program"] == program.pk


def test_log_refuses_out_of_scope_household(officer: Any, program: Program) -> None:
    outside = f.HouseholdFactory(desa=f.desa("6402012001"))
    response = client_for(officer).post(reverse("programs:log"), log_post(program, outside))
    assert response.status_code == 200
    assert response.context["form"].errors["household"]
    assert "panel" not in response.context


# ------------------------------------------------------------------------------------ finder and panel


def test_finder_by_name_nik_and_id_keluarga(officer: Any, django_assert_max_num_queries: Any) -> None:
    siti = f.HouseholdFactory(head_name="Siti Aminah", desil=1)
    head = f.PersonFactory(household=siti, name="Siti Aminah")
    link = f.HouseholdSourceLinkFactory(household=siti, external_id="P3KE3324000123")
    f.HouseholdFactory(head_name="Sutrisno")
    f.HouseholdFactory(head_name="Siti Aminah Luar", desa=f.desa("6402012001"))
    client = client_for(officer)
    url = reverse("programs:household-finder")
    with django_assert_max_num_queries(8):
        response = client.get(url, {"q": "siti"})
    assert [h.pk for h in response.context["results"]] == [siti.pk]
    assert "Desil 1" in response.content.decode()
    assert [h.pk for h in client.get(url, {"q": head.nik}).context["results"]] == [siti.pk]
    assert [h.pk for h in client.get(url, {"q": link.external_id}).context["results"]] == [siti.pk]
    assert client.get(url, {"q": "si"}).context["results"] is None  # too short
    assert len(client.get(url, {"desa": "33.24.01.2001"}).context["results"]) == 2


def test_panel_shows_desil_overlap_masked_nik_and_logs_the_view(officer: Any, program: Program) -> None:
    household = f.HouseholdFactory(head_name="Siti Aminah", desil=1)
    head = f.PersonFactory(household=household, name="Siti Aminah")
    elsewhere = f.ProgramFactory(name="Bedah Rumah Baznas", organization=f.OrganizationFactory(kind="baznas"))
    f.InterventionFactory(program=elsewhere, household=household)
    response = client_for(officer).get(reverse("programs:household-panel", args=[household.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Desil 1" in html
    assert "Bedah Rumah Baznas" in html
    assert head.nik_masked in html and head.nik not in html
    assert 'data-testid="panel-overlap"' in html
    assert PersonalDataAccess.objects.filter(
        user=officer, action=AccessAction.VIEW_HOUSEHOLD, object_ids=[household.pk]
    ).exists()


def test_panel_out_of_scope_is_404(officer: Any) -> None:
    outside = f.HouseholdFactory(desa=f.desa("6402012001"))
    assert client_for(officer).get(reverse("programs:household-panel", args=[outside.pk])).status_code == 404


def test_partner_finds_only_allocated_households(program: Program) -> None:
    partner = f.user_with_role(Role.PARTNER)
    allocated = f.AllocationFactory(organization=partner.test_organization, household__head_name="Siti Aminah")
    f.HouseholdFactory(head_name="Siti Rahayu")
    response = client_for(partner).get(reverse("programs:household-finder"), {"q": "siti"})
    assert [h.pk for h in response.context["results"]] == [allocated.household_id]


# ---------------------------------------------------------------------------------------------- cancel


def test_cancel_needs_reason_and_frees_realisation(officer: Any, program: Program) -> None:
    iv = f.InterventionFactory(program=program)
    client = client_for(officer)
    url = reverse("programs:intervention-cancel", args=[iv.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 302
    assert any("wajib" in m for m in messages_of(response))
    iv.refresh_from_db()
    assert iv.status == InterventionStatus.DELIVERED
    response = client.post(url, {"reason": "Salah sasaran"})
    iv.refresh_from_db()
    assert (iv.status, iv.cancel_reason) == (InterventionStatus.CANCELLED, "Salah sasaran")
    again = client.post(url, {"reason": "Lagi"})
    assert any("sudah dibatalkan" in m for m in messages_of(again))
    detail = client.get(reverse("programs:detail", args=[program.pk]))
    assert detail.context["program"].reached == 0


def test_cancel_other_agency_intervention_is_404(officer: Any) -> None:
    iv = f.InterventionFactory()
    assert (
        client_for(officer).post(reverse("programs:intervention-cancel", args=[iv.pk]), {"reason": "x"}).status_code
        == 404
    )
    assert client_for(officer).get(reverse("programs:intervention-cancel", args=[iv.pk])).status_code == 405


def test_totals_and_program_page_figures_agree_with_the_list_selector(officer: Any, program: Program) -> None:
    from programs import selectors

    second = f.ProgramFactory(organization=officer.test_organization)
    shared = f.HouseholdFactory()
    f.InterventionFactory(program=program, household=shared, value=100_000)
    f.InterventionFactory(program=second, household=shared, value=200_000)
    f.InterventionFactory(program=program, household=f.HouseholdFactory(desa=f.desa(OTHER_KEC_DESA)))
    f.InterventionFactory(program=program, status=InterventionStatus.PLANNED)
    programs = selectors.program_list(user=officer)
    assert selectors.program_totals(programs=programs) == selectors.program_totals_of(list(programs))
    annotated = selectors.program_list(user=officer).get(pk=program.pk)
    realisation = selectors.program_realisation(program=program)
    assert (realisation.reached, realisation.realised_value) == (annotated.reached, annotated.realised_value)
    assert realisation.status_counts == {"planned": 1, "delivered": 2, "cancelled": 0}
    assert [(k.name, k.households) for k in realisation.by_kecamatan] == [("Plantungan", 1), ("Pageruyung", 1)]
