"""Gap dashboard: figures equal the precomputed GapSummary rows for each role, drill-down links, map data,
targets, freshness line, and the recompute button (secretariat only, coalesced) with its progress partial."""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from reports.boundaries import boundary_validate
from reports.demo import DEMO_TARGETS, demo_gap_seed
from reports.models import GapRun, GapRunStatus, GapSummary, RegionBoundarySet, RegionTarget
from reports.selectors import summary_rows
from reports.services import gap_recompute_now
from tests import factories as f
from tkpk.models import Region
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

YEAR = dt.date.today().year
KEC_A, KEC_B = "332401", "332402"


@dataclass
class World:
    year: int
    desa_a: str
    desa_b: str
    users: dict[str, Any]


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def kendal_desa(kecamatan: str) -> str:
    return str(
        Region.objects.filter(level=4, code__startswith=kecamatan).order_by("code").values_list("code", flat=True)[0]
    )


@pytest.fixture
def world() -> World:
    f.load_kendal()
    desa_a, desa_b = kendal_desa(KEC_A), kendal_desa(KEC_B)
    opd = f.OrganizationFactory(kind="opd", region=f.region(f.KENDAL))
    program = f.ProgramFactory(organization=opd, year=YEAR)
    # Desa A: 3 desil-1 households, one covered; desa B: 2 desil-1 uncovered, 1 desil-3 covered.
    a = [f.HouseholdFactory(desa=f.desa(desa_a), desil=1) for _ in range(3)]
    b = [f.HouseholdFactory(desa=f.desa(desa_b), desil=d) for d in (1, 1, 3)]
    f.InterventionFactory(program=program, household=a[0], delivered_on=dt.date(YEAR, 1, 15))
    f.InterventionFactory(program=program, household=b[2], delivered_on=dt.date(YEAR, 1, 15))
    gap_recompute_now(year=YEAR, region_code=f.KENDAL)
    users = {
        "secretariat": f.user_with_role(Role.SECRETARIAT),
        "opd": f.user_with_role(Role.OPD_OFFICER),
        "leadership": f.user_with_role(Role.LEADERSHIP),
        "partner": f.user_with_role(Role.PARTNER),
    }
    return World(year=YEAR, desa_a=desa_a, desa_b=desa_b, users=users)


def text_of(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert match, f"{testid} not in page"
    return match.group(1).strip()


@pytest.mark.parametrize("role", ["secretariat", "opd", "leadership"])
def test_dashboard_shows_the_summary_row_for_each_role(world: World, role: str) -> None:
    user = world.users[role]
    response = client_for(user).get(reverse("reports:dashboard"), {"year": world.year})
    assert response.status_code == 200
    row = GapSummary.objects.get(year=world.year, region_code=f.KENDAL)
    assert (row.households, row.desil1, row.desil1_uncovered, row.covered) == (6, 5, 4, 2)
    html = response.content.decode()
    assert text_of(html, "kpi-households") == str(row.households)
    assert text_of(html, "kpi-desil1-uncovered") == str(row.desil1_uncovered)
    assert text_of(html, "kpi-covered-pct") == f"{round(100 * row.covered / row.households, 1)}%".replace(".", ",")
    assert text_of(html, "kpi-overlap") == str(row.overlap)
    assert text_of(html, "kpi-graduated") == str(row.graduated)
    assert text_of(html, "kpi-unmet") == str(row.unmet_any)
    d = response.context["d"]
    expected = {r["region"]: r for r in summary_rows(user=user, region=f.KENDAL, level=3, year=world.year)}
    assert {c.code: (c.desil1, c.desil1_uncovered) for c in d.children} == {
        code: (r["desil1"], r["desil1_uncovered"]) for code, r in expected.items()
    }
    assert [c.code for c in d.children] == [
        c.code for c in sorted(d.children, key=lambda c: (-c.desil1_uncovered, c.name))
    ]  # ranked: most uncovered first
    assert dict(d.desil)["1"] == row.by_desil["1"] == 5
    assert "Data per" in html
    # The KPI of a kecamatan row equals its own summary row.
    kec = GapSummary.objects.get(year=world.year, region_code=KEC_A)
    assert next(c for c in d.children if c.code == KEC_A).desil1_uncovered == kec.desil1_uncovered == 2


def test_partner_and_anonymous_cannot_open_the_dashboard(world: World) -> None:
    assert client_for(world.users["partner"]).get(reverse("reports:dashboard")).status_code == 403
    response = Client().get(reverse("reports:dashboard"))
    assert response.status_code == 302


def test_kecamatan_drills_down_to_desa_rows_that_link_to_the_household_list(world: World) -> None:
    client = client_for(world.users["secretariat"])
    response = client.get(reverse("reports:dashboard"), {"year": world.year, "region": "33.24.01"})
    assert response.status_code == 200
    d = response.context["d"]
    assert d.region.code == KEC_A and d.child_level == 4
    row = next(c for c in d.children if c.code == world.desa_a)
    assert (row.desil1, row.desil1_uncovered) == (3, 2)
    assert row.url.startswith("/kesenjangan/keluarga/?")
    assert f"region={world.desa_a}" in row.url and "uncovered=1" in row.url and "desil=1" in row.url
    assert f"year={world.year}" in row.url
    assert [b.code for b in d.breadcrumbs] == [f.KENDAL, KEC_A]
    # A kecamatan row of the kabupaten page opens that kecamatan's dashboard.
    top = client.get(reverse("reports:dashboard"), {"year": world.year}).context["d"]
    assert next(c for c in top.children if c.code == KEC_A).url == (
        f"{reverse('reports:dashboard')}?year={world.year}&region={KEC_A}"
    )


def test_region_outside_the_users_area_is_not_found(world: World) -> None:
    client = client_for(world.users["secretariat"])
    assert client.get(reverse("reports:dashboard"), {"region": "33.25"}).status_code == 404
    assert client.get(reverse("reports:dashboard"), {"region": "abc"}).status_code == 404


def test_year_without_figures_shows_an_empty_state(world: World) -> None:
    response = client_for(world.users["leadership"]).get(reverse("reports:dashboard"), {"year": world.year - 3})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="gap-empty"' in html
    assert "belum pernah dihitung" in html
    assert 'data-testid="gap-recompute"' not in html  # leadership has no button


@pytest.mark.parametrize("role", ["leadership", "opd", "partner"])
def test_only_the_secretariat_may_recompute(world: World, role: str) -> None:
    before = GapRun.objects.count()
    response = client_for(world.users[role]).post(reverse("reports:recompute"), {"year": world.year})
    assert response.status_code == 403
    assert GapRun.objects.count() == before


def test_recompute_creates_one_queued_run_and_a_second_click_coalesces(
    world: World, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports import tasks

    sent: list[int] = []
    # Record what would go to the broker (the real worker path is tested in test_gap_celery.py).
    monkeypatch.setattr(tasks.gap_run_execute_task, "delay", lambda run_id: sent.append(run_id))
    client = client_for(world.users["secretariat"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = client.post(reverse("reports:recompute"), {"year": world.year, "region": KEC_A})
        second = client.post(reverse("reports:recompute"), {"year": world.year}, HTTP_HX_REQUEST="true")
    assert first.status_code == 302
    assert first["Location"] == f"{reverse('reports:dashboard')}?year={world.year}&region={KEC_A}"
    queued = GapRun.objects.filter(status=GapRunStatus.QUEUED)
    assert queued.count() == 1
    run = queued.get()
    assert (run.year, run.region_code, run.trigger) == (world.year, f.KENDAL, "manual")
    assert run.requested_by == world.users["secretariat"]
    for callback in callbacks:  # the commits happen: the joined run is still waiting, so nothing more is sent
        callback()
    assert sent == [run.pk]  # one task for the two clicks
    html = second.content.decode()
    assert second.status_code == 200 and 'data-testid="gap-run-pending"' in html
    assert 'hx-trigger="every 2s"' in html and "Menunggu" in html


def test_bad_year_is_refused(world: World) -> None:
    response = client_for(world.users["secretariat"]).post(reverse("reports:recompute"), {"year": "abc"})
    assert response.status_code == 400
    assert not GapRun.objects.filter(status=GapRunStatus.QUEUED).exists()


def test_run_status_shows_progress_then_the_finished_time(world: World) -> None:
    client = client_for(world.users["leadership"])
    run = GapRun.objects.create(
        year=world.year, region_code=f.KENDAL, trigger="manual", status=GapRunStatus.RUNNING, progress=70,
        step="Menjumlahkan per desa",
    )  # fmt: skip
    html = client.get(reverse("reports:run_status"), {"year": world.year}).content.decode()
    assert "70%" in html and "Menjumlahkan per desa" in html and 'hx-trigger="every 2s"' in html
    GapRun.objects.filter(pk=run.pk).update(status=GapRunStatus.DONE, progress=100, finished_at=run.requested_at)
    html = client.get(reverse("reports:run_status"), {"year": world.year, "watch": "1"}).content.decode()
    assert "hx-trigger" not in html
    assert 'data-testid="gap-run-finished"' in html and "Perhitungan terakhir selesai" in html
    assert client_for(world.users["partner"]).get(reverse("reports:run_status")).status_code == 403


def test_map_data_is_keyed_by_plain_code_with_each_regions_figures(world: World) -> None:
    kendal = f.region(f.KENDAL)
    square = [[[110.0, -6.9], [110.1, -6.9], [110.1, -7.0], [110.0, -7.0], [110.0, -6.9]]]
    geojson = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"kode": "33.24.01"},
                "geometry": {"type": "Polygon", "coordinates": square},
            },
            {"type": "Feature", "properties": {"kode": KEC_B}, "geometry": {"type": "Polygon", "coordinates": square}},
        ],
    }
    RegionBoundarySet.objects.create(region=kendal, level=3, name="Batas", geojson=geojson, feature_count=2)
    response = client_for(world.users["opd"]).get(reverse("reports:dashboard"), {"year": world.year})
    features = {
        feat["properties"]["code"]: feat["properties"] for feat in response.context["d"].map_geojson["features"]
    }
    assert set(features) == {KEC_A, KEC_B}
    for code in (KEC_A, KEC_B):
        row = GapSummary.objects.get(year=world.year, region_code=code)
        assert (features[code]["desil1"], features[code]["desil1_uncovered"]) == (row.desil1, row.desil1_uncovered)
        assert features[code]["url"].endswith(f"region={code}")
    html = response.content.decode()
    assert 'id="gap-map-data"' in html and 'data-testid="gap-child-row"' in html  # map and table together
    assert 'data-testid="gap-map-schematic"' not in html


def test_targets_and_trend_come_from_their_rows(world: World) -> None:
    kendal = f.region(f.KENDAL)
    RegionTarget.objects.create(
        region=kendal, year=2025, poverty_rate_target=Decimal("7.44"), poverty_rate_actual=Decimal("7.90"),
        extreme_rate_target=Decimal("0.40"),
    )  # fmt: skip
    response = client_for(world.users["leadership"]).get(
        reverse("reports:dashboard"), {"year": world.year, "region": KEC_A}
    )
    chart = response.context["chart_data"]
    assert chart["targets"][0]["year"] == 2025
    assert chart["targets"][0]["poverty_target"] == 7.44 and chart["targets"][0]["extreme_actual"] is None
    assert response.context["d"].targets_region == kendal  # a kecamatan shows its kabupaten's targets
    assert [t["year"] for t in chart["trend"]] == [world.year]
    assert (
        chart["trend"][0]["desil1_uncovered"]
        == GapSummary.objects.get(year=world.year, region_code=KEC_A).desil1_uncovered
    )


def test_programs_by_strategy_and_organization_count_reached_households(world: World) -> None:
    response = client_for(world.users["secretariat"]).get(reverse("reports:dashboard"), {"year": world.year})
    d = response.context["d"]
    assert sum(n for _, n in d.by_strategy) == 2
    assert sum(n for _, n in d.by_organization) == 2
    kec = client_for(world.users["secretariat"]).get(
        reverse("reports:dashboard"), {"year": world.year, "region": KEC_A}
    )
    assert sum(n for _, n in kec.context["d"].by_organization) == 1


def test_nav_link_only_for_gap_viewers(world: World) -> None:
    home = reverse("home")
    assert reverse("reports:dashboard") in client_for(world.users["leadership"]).get(home).content.decode()
    assert reverse("reports:dashboard") not in client_for(world.users["partner"]).get(home).content.decode()


def test_demo_seed_gives_targets_and_valid_schematic_boundaries(db: None) -> None:
    f.load_kendal()
    result = demo_gap_seed(region_code="33.24")
    again = demo_gap_seed(region_code="33.24")
    assert result == again  # idempotent
    assert RegionTarget.objects.filter(region_id=f.KENDAL).count() == len(DEMO_TARGETS) == result.targets
    sets = list(RegionBoundarySet.objects.order_by("level", "region_id"))
    assert [(s.region_id, s.level) for s in sets] == [(f.KENDAL, 3), (KEC_A, 4), (KEC_B, 4)]
    assert all(s.is_schematic and "SKEMATIS" in s.name for s in sets)
    for boundary in sets:
        check = boundary_validate(content=json.dumps(boundary.geojson), region=boundary.region, level=boundary.level)
        assert check.is_valid, check.errors
        assert check.feature_count == boundary.feature_count == Region.objects.filter(parent=boundary.region).count()


def test_province_tkpk_sees_its_kabupaten_as_children(world: World) -> None:
    province = f.user_with_role(Role.LEADERSHIP, region_code="33")
    response = client_for(province).get(reverse("reports:dashboard"), {"year": world.year})
    assert response.status_code == 200
    d = response.context["d"]
    assert d.region.code == "33" and d.child_level == 2
    kendal = next(c for c in d.children if c.code == f.KENDAL)
    row = GapSummary.objects.get(year=world.year, region_code=f.KENDAL)
    assert (kendal.desil1, kendal.desil1_uncovered, kendal.households) == (row.desil1, row.desil1_uncovered, 6)
    assert kendal.url == f"{reverse('reports:dashboard')}?year={world.year}&region={f.KENDAL}"
    assert d.map_geojson is None  # no map of kabupaten: the ranked table and bar chart
    assert 'id="children-chart"' in response.content.decode()
