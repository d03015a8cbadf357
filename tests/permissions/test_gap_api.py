"""/api/v1/gaps/summary/ and /api/v1/gaps/households/ × actor × region asked (rules in matrix.py, GAP_API).

Figures: Cap.API + Cap.GAP_VIEW (leadership has no API, partners no figures); another region asked for answers
nothing of it. By-name list: Cap.API + Cap.REGISTRY_VIEW, rows as the registry (partners: their allocation only),
never a full NIK or No KK.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import user_with_role
from tests.permissions.matrix import (
    ACTORS,
    GAP_API,
    GAP_REGIONS_READ,
    GAP_SUMMARY_DEFAULT_ROWS,
    GAP_SUMMARY_REGION_ROWS,
    GapEndpoint,
    gap_api_expected,
    gap_households_listed,
)
from tests.permissions.test_api import assert_no_identifiers
from tests.permissions.world import GAP_MARK, KENDAL_MARK, KUKAR, KUKAR_MARK, World
from tkpk.models import Membership, Organization, OrganizationKind
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

CASES = [
    pytest.param(actor, endpoint, target, id=f"{actor}-{target + '-' if target else ''}{endpoint.name}")
    for endpoint in GAP_API
    for actor in ACTORS
    for target in endpoint.targets
]


def other_side_marks(actor: str) -> tuple[str, ...]:
    """Markers of the region the actor must never read (names, snapshot labels, targets, reports)."""
    if actor == "secretariat_kukar":
        return (KENDAL_MARK, GAP_MARK["kendal"])
    return (KUKAR_MARK, GAP_MARK["kukar"])


@pytest.mark.parametrize(("actor", "endpoint", "target"), CASES)
def test_gap_api(as_actor: Any, world: World, actor: str, endpoint: GapEndpoint, target: str | None) -> None:
    response = as_actor(actor).get(endpoint.path(target))

    expected = gap_api_expected(actor, endpoint)
    if isinstance(expected, frozenset):
        assert response.status_code in expected
    else:
        assert response.status_code == expected, response.content[:300]
    body = response.content.decode()
    assert_no_identifiers(world, body)
    for mark in other_side_marks(actor):
        assert mark not in body, f"{actor} reads another region's data ({mark}) through {endpoint.path(target)}"
    if response.status_code != 200:
        assert KENDAL_MARK not in body and KUKAR_MARK not in body
        return
    data = response.json()
    rows = data["results"]
    assert data.get("next") is None
    if endpoint.name == "gap-summary":
        if target is None:
            want = GAP_SUMMARY_DEFAULT_ROWS[actor]
        else:  # another region's kabupaten: no row of it
            want = GAP_SUMMARY_REGION_ROWS[target] if target in GAP_REGIONS_READ[actor] else frozenset()
        assert {row["region"] for row in rows} == want
    else:
        want_ids = {world.households[t].pk for t in gap_households_listed(actor, target)}
        assert {row["household_id"] for row in rows} == want_ids
        for row in rows:
            assert "nik" not in row and "no_kk" not in row


@pytest.mark.parametrize("actor", ["secretariat", "opd_officer", "secretariat_province"])
@pytest.mark.parametrize("region", ["64", "64.02.01", "6402012001"])
def test_gap_summary_of_another_region_by_any_level_is_empty(as_actor: Any, actor: str, region: str) -> None:
    response = as_actor(actor).get("/api/v1/gaps/summary/", {"region": region, "level": "desa"})
    assert response.status_code in (200, 404)
    if response.status_code == 200:
        assert response.json()["results"] == []


@pytest.mark.parametrize("actor", ["partner", "partner_b", "opd_officer"])
@pytest.mark.parametrize("params", [{"uncovered": "false"}, {"desil": "1"}, {"region": "64.02"}, {"region": "33"}])
def test_gap_households_filters_never_widen_the_scope(
    as_actor: Any, world: World, actor: str, params: dict[str, str]
) -> None:
    response = as_actor(actor).get("/api/v1/gaps/households/", params)
    assert response.status_code == 200
    ids = {row["household_id"] for row in response.json()["results"]}
    assert ids <= {world.households[t].pk for t in gap_households_listed(actor, None)}


def test_api_and_figures_must_come_from_the_same_membership(world: World) -> None:
    """A partner of Kendal (Cap.API, no figures) who is also leadership in Kutai Kartanegara (figures, no API): no
    single role of theirs may read gap figures through the API, so neither may the pair."""
    user = user_with_role(Role.PARTNER, organization=world.organizations["partner"], username="mitra-dan-pimpinan")
    leadership_kukar = Organization.objects.create(
        kind=OrganizationKind.SECRETARIAT, name="Pimpinan TKPK Kukar", region_id=KUKAR, short_code="pimpinan-kukar"
    )
    Membership.objects.create(user=user, organization=leadership_kukar, role=Role.LEADERSHIP)
    client = Client()
    client.force_login(user)

    response = client.get("/api/v1/gaps/summary/", {"region": "64.02"})

    assert response.status_code == 403, response.content[:300]
