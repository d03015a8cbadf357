"""Admin of the gap data across the border (test_admin.py walks every reports ModelAdmin from matrix.ADMIN_KIND):
need rules are shared by every region (as the program code lists), targets and boundaries belong to a region,
computations are read-only and must not show another region's figures.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from reports.models import GapRun, NeedRule, RegionBoundarySet, RegionTarget
from tests.permissions.test_admin import client_for
from tests.permissions.world import GAP_MARK, KENDAL, KUKAR, KUKAR_MARK, World

pytestmark = pytest.mark.django_db


def _rule_form(rule: NeedRule, **changes: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": rule.code,
        "name": rule.name,
        "condition": rule.condition,
        "min_age": rule.min_age,
        "max_age": rule.max_age,
        "school_occupations": rule.school_occupations,
        "assistance_kinds": list(rule.assistance_kinds.values_list("pk", flat=True)),
        "sort_order": rule.sort_order,
        "is_active": "on" if rule.is_active else "",
    }
    data.update(changes)
    return data


def test_need_rules_are_edited_by_any_secretariat_but_deleted_only_by_superusers(world: World) -> None:
    """matrix.SHARED: one definition of each need for every region, as the program code lists: a secretariat edits
    (the change reaches every region's figures), only a superuser deletes (a deleted rule would silently drop a
    need from every region's figures and history)."""
    rule = NeedRule.objects.order_by("pk").first()
    assert rule is not None, "the need rules are seeded by reports/migrations/0002"
    client = client_for(world, "secretariat_kukar")
    response = client.post(reverse("admin:reports_needrule_change", args=[rule.pk]), _rule_form(rule, name="Diganti"))
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else None
    assert NeedRule.objects.get(pk=rule.pk).name == "Diganti"

    delete = client.post(reverse("admin:reports_needrule_delete", args=[rule.pk]), {"post": "yes"})
    assert delete.status_code == 403, "a kabupaten secretariat deleted a need rule shared by every region"
    assert NeedRule.objects.filter(pk=rule.pk).exists()


@pytest.mark.parametrize("actor", ["secretariat", "secretariat_province"])
def test_secretariat_cannot_set_a_target_for_another_region(world: World, actor: str) -> None:
    client_for(world, actor).post(
        reverse("admin:reports_regiontarget_add"),
        {"region": KUKAR, "year": 2030, "poverty_rate_target": "1.00", "source_note": "bayangan"},
    )
    assert not RegionTarget.objects.filter(region_id=KUKAR, year=2030).exists()


def test_secretariat_cannot_move_its_target_to_another_region(world: World) -> None:
    target = RegionTarget.objects.get(region_id=KENDAL)
    client_for(world, "secretariat").post(
        reverse("admin:reports_regiontarget_change", args=[target.pk]),
        {"region": KUKAR, "year": target.year, "poverty_rate_target": "1.00", "source_note": "pindah"},
    )
    target.refresh_from_db()
    assert target.region_id == KENDAL


def test_secretariat_cannot_move_a_boundary_set_to_another_region(world: World) -> None:
    boundary = RegionBoundarySet.objects.get(region_id=KENDAL)
    client_for(world, "secretariat").post(
        reverse("admin:reports_regionboundaryset_change", args=[boundary.pk]),
        {"region": KUKAR, "level": 3, "name": "pindah", "code_property": "kode"},
    )
    boundary.refresh_from_db()
    assert boundary.region_id == KENDAL


@pytest.mark.parametrize("actor", ["secretariat", "secretariat_province", "secretariat_kukar"])
def test_gap_runs_are_read_only(world: World, actor: str) -> None:
    run = world.gap_runs["all"]
    client = client_for(world, actor)
    assert client.post(reverse("admin:reports_gaprun_delete", args=[run.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:reports_gaprun_add")).status_code == 403
    assert GapRun.objects.filter(pk=run.pk).exists()


def test_whole_registry_run_shows_no_other_region_to_a_kabupaten_secretariat(world: World) -> None:
    """The nightly run covers every region; a Kendal secretariat may see that it ran (GapRunQuerySet shows wider
    runs), but not the other region's data it used (its snapshot labels) on any admin page of it."""
    run = world.gap_runs["all"]
    client = client_for(world, "secretariat")
    for url in (reverse("admin:reports_gaprun_changelist"), reverse("admin:reports_gaprun_change", args=[run.pk])):
        body = client.get(url).content.decode()
        assert KUKAR_MARK not in body, f"{url} shows Kutai Kartanegara's snapshot"
        assert GAP_MARK["kukar"] not in body
