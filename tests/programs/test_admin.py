"""Program admin: code lists, programs saved through the service (refusals shown on the form), read-mostly
intervention and activity report lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from programs.models import ActivityReport, Intervention, InterventionStatus, Program, ProgramCluster
from tests import factories as f
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

YEAR = dt.date.today().year


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def secretariat() -> Any:
    return f.user_with_role(Role.SECRETARIAT)


@pytest.fixture
def superuser() -> Any:
    return f.UserFactory(is_staff=True, is_superuser=True)


def program_data(organization: Any, **over: Any) -> dict[str, Any]:
    data = {
        "organization": organization.pk,
        "code": "pangan-lansia",
        "name": "Bantuan Pangan Lansia",
        "year": YEAR,
        "cluster": f.reference(ProgramCluster, "klaster-1").pk,
        "strategy": f.reference(f.ProgramStrategy, "kurangi-beban").pk,
        "assistance_kind": f.reference(f.AssistanceKind, "pangan").pk,
        "funding_source": "apbd",
        "budget": "100000000",
        "unit_value": "250000",
        "target_households": "400",
        "outside_region_policy": "warn",
        "starts_on": f"{YEAR}-01-01",
        "ends_on": f"{YEAR}-12-31",
        "once_per_year": "on",
        "is_active": "on",
    }
    data.update(over)
    return data


def test_secretariat_extends_code_lists(secretariat: Any) -> None:
    client = client_for(secretariat)
    assert client.get(reverse("admin:programs_programcluster_changelist")).status_code == 200
    response = client.post(
        reverse("admin:programs_programcluster_add"),
        {"code": "klaster-4", "name": "Klaster 4: Sinergi kebijakan", "sort_order": "4", "is_active": "on"},
    )
    assert response.status_code == 302
    assert ProgramCluster.objects.filter(code="klaster-4").exists()
    cluster = ProgramCluster.objects.get(code="klaster-4")
    assert client.post(reverse("admin:programs_programcluster_delete", args=[cluster.pk])).status_code == 403
    assert client.get(reverse("admin:programs_programcluster_export")).status_code == 200


def test_secretariat_creates_program_through_the_service(secretariat: Any) -> None:
    dinsos = f.OrganizationFactory(opd=True)
    response = client_for(secretariat).post(reverse("admin:programs_program_add"), program_data(dinsos))
    assert response.status_code == 302, response.context["adminform"].form.errors
    program = Program.objects.get(code="pangan-lansia")
    assert program.organization == dinsos
    assert program.created_by == secretariat  # set by programs.services.program_create
    assert program.region_id == "3324"


def test_admin_shows_service_refusal_on_the_form(superuser: Any) -> None:
    dinsos = f.OrganizationFactory(opd=True)
    outside = f.region("640201")  # a kecamatan of Kutai Kartanegara, outside the Kendal program's region
    response = client_for(superuser).post(
        reverse("admin:programs_program_add"), program_data(dinsos, target_regions=[outside.pk])
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "luar wilayah TKPK" in str(errors)
    assert "luar wilayah TKPK" in response.content.decode()
    assert not Program.objects.exists()


def test_secretariat_edits_program_and_cannot_pick_organization_outside_region(secretariat: Any) -> None:
    program = f.ProgramFactory()
    client = client_for(secretariat)
    url = reverse("admin:programs_program_change", args=[program.pk])
    response = client.post(url, program_data(program.organization, code=program.code, name="Nama Baru"))
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.name == "Nama Baru"
    kukar_org = f.OrganizationFactory(region=f.region(f.KUTAI_KARTANEGARA))
    response = client.post(url, program_data(kukar_org, code=program.code))
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    outside = f.ProgramFactory(organization=kukar_org)
    assert client.get(reverse("admin:programs_program_change", args=[outside.pk])).status_code == 302  # not found


def test_program_changelist_is_scoped_without_n_plus_one(secretariat: Any, django_assert_max_num_queries: Any) -> None:
    for _ in range(3):
        f.ProgramFactory()
    f.ProgramFactory(organization=f.OrganizationFactory(region=f.region(f.KUTAI_KARTANEGARA)), name="Luar")
    client = client_for(secretariat)
    url = reverse("admin:programs_program_changelist")
    client.get(url)
    with django_assert_max_num_queries(14) as few:
        client.get(url)
    for _ in range(10):
        f.ProgramFactory()
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert "Luar" not in response.content.decode()


def test_intervention_admin_is_read_only_and_cancels_through_the_service(
    secretariat: Any, django_assert_max_num_queries: Any
) -> None:
    interventions = [f.InterventionFactory() for _ in range(3)]
    client = client_for(secretariat)
    url = reverse("admin:programs_intervention_changelist")
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200
    change = client.get(reverse("admin:programs_intervention_change", args=[interventions[0].pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content
    assert client.get(reverse("admin:programs_intervention_add")).status_code == 403
    response = client.post(
        url, {"action": "cancel_as_data_error", "_selected_action": [i.pk for i in interventions[:2]]}
    )
    assert response.status_code == 302
    assert Intervention.objects.filter(status=InterventionStatus.CANCELLED).count() == 2
    assert any("2 penyaluran dibatalkan" in str(m) for m in get_messages(response.wsgi_request))


def test_intervention_cancel_refusal_is_shown(superuser: Any) -> None:
    # A superuser may log for any program; a second cancel is refused by the service and reported.
    iv = f.InterventionFactory(status=InterventionStatus.CANCELLED, cancel_reason="Ganda")
    other = f.InterventionFactory()
    client = client_for(superuser)
    response = client.post(
        reverse("admin:programs_intervention_changelist"),
        {"action": "cancel_as_data_error", "_selected_action": [iv.pk, other.pk]},
    )
    assert response.status_code == 302
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("1 penyaluran dibatalkan" in t for t in texts)
    assert f"#{iv.pk}: Penyaluran ini sudah dibatalkan." in texts


def test_activity_report_admin_is_read_only(secretariat: Any) -> None:
    org = f.OrganizationFactory(opd=True)
    report = ActivityReport.objects.create(organization=org, period_kind="semester", period_year=YEAR, period_number=1)
    client = client_for(secretariat)
    assert client.get(reverse("admin:programs_activityreport_changelist")).status_code == 200
    change = client.get(reverse("admin:programs_activityreport_change", args=[report.pk]))
    assert change.status_code == 200
    assert b'name="_save"' not in change.content


@pytest.mark.parametrize("role", [Role.OPD_OFFICER, Role.LEADERSHIP, Role.PARTNER])
def test_other_roles_have_no_program_admin(role: str) -> None:
    user = f.user_with_role(role, is_staff=True)
    client = client_for(user)
    for name in ("program", "intervention", "programcluster", "activityreport"):
        response = client.get(reverse(f"admin:programs_{name}_changelist"))
        assert response.status_code == 403, name
