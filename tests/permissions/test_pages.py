"""HTML pages × actor × in/out of scope (rules in matrix.py)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.permissions.matrix import (
    ACTOR_ROLE,
    ACTORS,
    LOGIN,
    PAGES,
    PUBLIC_PAGES,
    ROLE_CAPS,
    Page,
    PublicPage,
    page_expected,
)
from tests.permissions.world import KENDAL_MARK, KUKAR_MARK, OUT_OF_REGION, UNALLOCATED, World
from tkpk.models import AccessAction, PersonalDataAccess
from tkpk.scoping import ROLE_CAPABILITIES

pytestmark = pytest.mark.django_db

PAGE_CASES = [
    pytest.param(actor, page, target, id=f"{actor}-{target + '-' if target else ''}{page.name}")
    for page in PAGES
    for actor in ACTORS
    for target in page.targets
]
PUBLIC_CASES = [pytest.param(actor, page, id=f"{actor}-{page.name}") for page in PUBLIC_PAGES for actor in ACTORS]


def request(client: Client, method: str, path: str, data: dict[str, str] | None = None) -> Any:
    return client.post(path, data or {}) if method == "POST" else client.get(path, data or {})


def assert_status(response: Any, expected: int | str) -> None:
    if expected == LOGIN:
        assert response.status_code == 302, response.status_code
        assert response["Location"].startswith("/akun/masuk/"), response["Location"]
    else:
        assert response.status_code == expected, (response.status_code, response.get("Location"))


def test_capability_table_matches_scoping() -> None:
    """matrix.ROLE_CAPS restates tkpk.scoping.ROLE_CAPABILITIES; a new capability must be added to both."""
    assert {str(k): v for k, v in ROLE_CAPS.items()} == {str(k): v for k, v in ROLE_CAPABILITIES.items()}
    assert {r for r in ACTOR_ROLE.values() if r} == set(ROLE_CAPABILITIES)


@pytest.mark.parametrize(("actor", "html_page", "target"), PAGE_CASES)
def test_page(as_actor: Any, world: World, actor: str, html_page: Page, target: str | None) -> None:
    household = world.households[target] if target else None
    person = world.heads[target] if target else None
    path = html_page.path(household=household.pk if household else 1, person=person.pk if person else 1)
    reveals_before = PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_NIK).count()

    response = request(as_actor(actor), html_page.method, path)

    expected = page_expected(actor, html_page, target)
    assert_status(response, expected)
    body = body_text(response)
    reveals = PersonalDataAccess.objects.filter(action=AccessAction.REVEAL_NIK).order_by("-id")
    if html_page.name.startswith("reveal-"):
        assert person is not None and household is not None
        secret = person.nik if html_page.name == "reveal-nik" else household.no_kk
        if expected == 200:
            # The full identifier, and the reveal is logged for this record by this user.
            assert secret in body
            log = reveals.first()
            assert reveals.count() == reveals_before + 1
            assert log.user_id == world.user(actor).pk
            assert log.object_ids == [person.pk if html_page.name == "reveal-nik" else household.pk]
            assert log.region_code == household.desa_id
        else:
            assert secret not in body
            assert reveals.count() == reveals_before
    else:
        # No by-name page shows a full NIK or No KK: those only come through a logged reveal.
        for secret in world.secret_identifiers:
            assert secret not in body
        assert reveals.count() == reveals_before
    if html_page.name == "household-detail" and household is not None:
        assert (household.head_name in body) == (expected == 200)


def body_text(response: Any) -> str:
    """The response as text; a spreadsheet download is read cell by cell so the same leak checks apply."""
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        return "\n".join(" ".join(str(v) for v in row if v is not None) for row in sheet.iter_rows(values_only=True))
    return str(response.content.decode())


@pytest.mark.parametrize(("actor", "html_page"), PUBLIC_CASES)
def test_public_page(as_actor: Any, world: World, actor: str, html_page: PublicPage) -> None:
    response = request(as_actor(actor), html_page.method, html_page.path, dict(html_page.data))

    assert response.status_code == (html_page.anonymous if actor == "anonymous" else html_page.logged_in)
    body = response.content.decode()
    for secret in world.secret_identifiers:
        assert secret not in body
    assert KENDAL_MARK not in body and KUKAR_MARK not in body


def test_reveal_with_unknown_kind_is_refused(as_actor: Any, world: World) -> None:
    response = as_actor("secretariat").post(f"/registri/buka/alamat/{world.heads['in-region'].pk}/")
    assert response.status_code == 403


@pytest.mark.parametrize("actor", ["secretariat", "opd_officer"])
def test_reveal_is_post_only(as_actor: Any, world: World, actor: str) -> None:
    response = as_actor(actor).get(f"/registri/buka/nik/{world.heads['in-region'].pk}/")
    assert response.status_code in (403, 405)
    assert world.heads["in-region"].nik not in response.content.decode()


# ------------------------------------------------------------------------------- search never leaks

SEARCH_CASES = [
    # (actor, household target searched for, found?)
    ("secretariat", "in-region", True),
    ("secretariat", OUT_OF_REGION, False),
    ("opd_officer", UNALLOCATED, True),
    ("opd_officer", OUT_OF_REGION, False),
    ("partner", "in-region", True),
    ("partner", UNALLOCATED, False),
    ("partner", "in-region-partner-b", False),
    ("partner_b", "in-region", False),
    ("partner_b", "in-region-partner-b", True),
    ("secretariat_kukar", "in-region", False),
    ("secretariat_kukar", OUT_OF_REGION, True),
    ("secretariat_province", UNALLOCATED, True),
    ("secretariat_province", OUT_OF_REGION, False),
]


@pytest.mark.parametrize("by", ["name", "nik", "id_keluarga", "member-name"])
@pytest.mark.parametrize(
    ("actor", "target", "found"),
    [pytest.param(*case, id=f"{case[0]}-{case[1]}") for case in SEARCH_CASES],
)
def test_search_shows_only_households_in_scope(
    as_actor: Any, world: World, actor: str, target: str, found: bool, by: str
) -> None:
    household, head = world.households[target], world.heads[target]
    query = {
        "name": {"name": household.head_name},
        "member-name": {"name": household.members.exclude(pk=head.pk).get().name},
        "nik": {"nik": head.nik},
        "id_keluarga": {"id_keluarga": household.source_links.get().external_id},
    }[by]

    response = as_actor(actor).get("/registri/", query)

    assert response.status_code == 200
    table = response.context["table"]
    assert {row.record.pk for row in table.paginated_rows} == ({household.pk} if found else set())
    # The query is echoed in the form; the row (its link to the detail page) must not be.
    assert (f"/registri/keluarga/{household.pk}/" in response.content.decode()) == found


@pytest.mark.parametrize("actor", ["secretariat", "secretariat_province", "opd_officer"])
def test_search_by_kabupaten_code_of_another_region_is_empty(as_actor: Any, actor: str) -> None:
    response = as_actor(actor).get("/registri/", {"region": "64.02"})
    assert response.status_code == 200
    assert list(response.context["table"].paginated_rows) == []
    assert KUKAR_MARK not in response.content.decode()


def test_home_counts_only_the_actors_households(as_actor: Any) -> None:
    """The home panels count rows through for_aggregates: partner A counts its one allocated household."""
    counts = {}
    for actor in ("secretariat", "partner", "partner_b", "leadership", "secretariat_kukar", "secretariat_province"):
        response = as_actor(actor).get("/")
        assert response.status_code == 200
        counts[actor] = response.context["summary"]["active_households"]
    assert counts == {
        "secretariat": 3,
        "partner": 1,
        "partner_b": 1,
        "leadership": 3,
        "secretariat_kukar": 1,
        "secretariat_province": 3,
    }
