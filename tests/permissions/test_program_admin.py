"""Program admin writes across the border: the change form, the cancel action and the code lists.

test_admin.py walks every program ModelAdmin (changelists, change views, every URL, autocomplete) from the
ADMIN_KIND rows; here are the writes that could widen a secretariat's reach: moving a program to another
region's organization, cancelling another region's delivery through the changelist action, and the shared
code lists (one list for every region).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from programs.models import Intervention, InterventionStatus, Program, ProgramCluster
from tests.permissions.test_admin import client_for
from tests.permissions.world import IN_REGION, KUKAR_AGENCY, OUT_OF_REGION, OWN_AGENCY, World

pytestmark = pytest.mark.django_db


def _program_admin_form(program: Program, **changes: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "organization": program.organization_id,
        "code": program.code,
        "name": program.name,
        "year": program.year,
        "cluster": program.cluster_id,
        "strategy": program.strategy_id,
        "assistance_kind": program.assistance_kind_id,
        "funding_source": program.funding_source,
        "budget": program.budget,
        "unit_value": program.unit_value or "",
        "target_households": program.target_households,
        "outside_region_policy": program.outside_region_policy,
        "max_desil": program.max_desil or "",
        "eligibility_note": program.eligibility_note,
        "starts_on": program.starts_on.isoformat(),
        "ends_on": program.ends_on.isoformat(),
        "description": program.description,
    }
    if program.once_per_year:
        data["once_per_year"] = "on"
    if program.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def _change(client: Client, program: Program, **changes: object) -> Any:
    url = reverse("admin:programs_program_change", args=[program.pk])
    return client.post(url, _program_admin_form(program, **changes))


def test_secretariat_saves_its_own_program_in_the_admin(world: World) -> None:
    """The form below is a working change form: the refusals in the next tests are real."""
    program = world.programs[OWN_AGENCY]
    response = _change(client_for(world, "secretariat"), program, name="Nama Baru Admin")
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else None
    program.refresh_from_db()
    assert program.name == "Nama Baru Admin"


@pytest.mark.parametrize("organization", ["kukar_opd", "secretariat_province"])
def test_secretariat_cannot_move_a_program_out_of_its_region(world: World, organization: str) -> None:
    program = world.programs[OWN_AGENCY]
    response = _change(client_for(world, "secretariat"), program, organization=world.organizations[organization].pk)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    program.refresh_from_db()
    assert program.organization_id == world.organizations["opd_officer"].pk
    assert program.region_id == "3324"


def test_secretariat_cannot_create_a_program_for_another_region(world: World) -> None:
    template = world.programs[OWN_AGENCY]
    data = _program_admin_form(template, organization=world.organizations["kukar_opd"].pk, code="admin-kukar-baru")
    client_for(world, "secretariat").post(reverse("admin:programs_program_add"), data)
    assert not Program.objects.filter(code="admin-kukar-baru").exists()


def test_cancel_action_touches_only_the_own_region(world: World) -> None:
    """The changelist action gets the selected ids through the scoped queryset: another region's id is ignored."""
    kendal = world.interventions[f"{OWN_AGENCY}/{IN_REGION}"]
    kukar = world.interventions[f"{KUKAR_AGENCY}/{OUT_OF_REGION}"]
    response = client_for(world, "secretariat").post(
        reverse("admin:programs_intervention_changelist"),
        {"action": "cancel_as_data_error", "_selected_action": [kendal.pk, kukar.pk], "index": "0"},
    )
    assert response.status_code == 302
    kendal.refresh_from_db()
    kukar.refresh_from_db()
    assert kendal.status == InterventionStatus.CANCELLED
    assert kukar.status == InterventionStatus.DELIVERED


@pytest.mark.parametrize("actor", ["opd_officer", "partner", "leadership"])
def test_cancel_action_refuses_roles_without_admin(world: World, actor: str) -> None:
    kendal = world.interventions[f"{OWN_AGENCY}/{IN_REGION}"]
    response = client_for(world, actor).post(
        reverse("admin:programs_intervention_changelist"),
        {"action": "cancel_as_data_error", "_selected_action": [kendal.pk], "index": "0"},
    )
    assert response.status_code == 403
    assert Intervention.objects.get(pk=kendal.pk).status == InterventionStatus.DELIVERED


def test_shared_code_lists_are_edited_by_any_secretariat(world: World) -> None:
    """By design (matrix.SHARED): one list for every region, extended by the secretariat; deletion is the
    superuser's. A Kutai Kartanegara secretariat renaming a cluster renames it for Kendal too."""
    cluster = world.programs[OWN_AGENCY].cluster
    client = client_for(world, "secretariat_kukar")
    url = reverse("admin:programs_programcluster_change", args=[cluster.pk])
    response = client.post(
        url,
        {"code": cluster.code, "name": "Klaster Diganti", "description": "", "sort_order": 1, "is_active": "on"},
    )
    assert response.status_code == 302
    assert ProgramCluster.objects.get(pk=cluster.pk).name == "Klaster Diganti"
    delete = client.post(reverse("admin:programs_programcluster_delete", args=[cluster.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert ProgramCluster.objects.filter(pk=cluster.pk).exists()
