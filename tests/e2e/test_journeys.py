"""End-to-end journeys in a real browser (Debian chromium) against pytest-django's ``live_server``.

Each test logs in through the login form, as a user would, and checks what the role may and may not see:
the secretariat opens and reveals, a partner sees only allocated households and never a full NIK, a
leadership account reads aggregates only, and five wrong passwords lock an account (django-axes).
Screenshots are written to ``test-results/e2e-*.png``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import Page, expect

from csr.models import Allocation
from households.choices import HouseholdStatus, NikStatus, Relationship, Sex
from households.models import Household, Person
from tkpk.models import AccessAction, CompanySector, Membership, Organization, OrganizationKind, PersonalDataAccess
from tkpk.regions import regions_load
from tkpk.scoping import Role

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "Kendal-uji-2026!"
DESA = "3324012001"  # Blumah, Kec. Plantungan, Kab. Kendal
OTHER_DESA = "3324022002"  # Getasblawong, Kec. Pageruyung
HEAD_NIK = "3324015501900001"  # woman born 15-01-1990 (day + 40), kecamatan 33.24.01, serial 0001
HEAD_NIK_MASKED = "3324********0001"
HEAD_NAME = "Siti Aminah"


# --------------------------------------------------------------------------------------------------- data


@pytest.fixture
def kendal() -> None:
    regions_load(code="33.24")


def make_user(username: str, *, role: str, kind: str, sector: str = "", is_staff: bool = False, **names: str) -> Any:
    organization = Organization.objects.create(
        kind=kind, name=f"Organisasi {username}", short_code=f"org-{username}", sector=sector, region_id="3324"
    )
    user = get_user_model().objects.create_user(username=username, password=PASSWORD, is_staff=is_staff, **names)
    Membership.objects.create(user=user, organization=organization, role=role)
    user.test_organization = organization
    return user


@pytest.fixture
def registry(kendal: None) -> dict[str, Any]:
    """Three households in Kendal; the first (Siti Aminah's) has three members with valid NIKs."""
    household = Household.objects.create(
        head_name=HEAD_NAME,
        no_kk="3324010903150001",
        address="Jl. Raya Blumah No. 12",
        rt="003",
        rw="002",
        dusun="Krajan",
        desa_id=DESA,
        desil=1,
        status=HouseholdStatus.ACTIVE,
    )
    members = [
        Person.objects.create(
            household=household, name=HEAD_NAME, nik=HEAD_NIK, nik_status=NikStatus.VALID, sex=Sex.FEMALE,
            relationship=Relationship.HEAD, birth_date=dt.date(1990, 1, 15), occupation="Buruh tani",
        ),
        Person.objects.create(
            household=household, name="Slamet Riyadi", nik="3324011407850002", nik_status=NikStatus.VALID,
            sex=Sex.MALE, relationship=Relationship.SPOUSE, birth_date=dt.date(1985, 7, 14), occupation="Pekebun",
        ),
        Person.objects.create(
            household=household, name="Dewi Lestari", nik="3324015203100003", nik_status=NikStatus.VALID,
            sex=Sex.FEMALE, relationship=Relationship.CHILD, birth_date=dt.date(2010, 3, 12),
        ),
    ]  # fmt: skip
    others = [
        Household.objects.create(head_name="Sutrisno", address="Dusun Sidomulyo", desa_id=DESA, desil=2),
        Household.objects.create(head_name="Warsini", address="Jl. Kauman 4", desa_id=OTHER_DESA, desil=1),
    ]
    Person.objects.create(
        household=others[0], name="Sutrisno", nik="3324010102700004", nik_status=NikStatus.VALID, sex=Sex.MALE,
        relationship=Relationship.HEAD, birth_date=dt.date(1970, 2, 1),
    )  # fmt: skip
    return {"household": household, "head": members[0], "members": members, "others": others}


# ------------------------------------------------------------------------------------------------ helpers


def login(page: Page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/akun/masuk/")
    expect(page.get_by_role("heading", name="Masuk ke TKPK")).to_be_visible()
    page.get_by_label("Nama pengguna").fill(username)
    page.get_by_label("Kata sandi").fill(password)
    page.get_by_role("button", name="Masuk", exact=True).click()
    page.wait_for_load_state()


def shoot(page: Page, directory: Path, name: str) -> Path:
    path = directory / f"e2e-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_role_shown(page: Page, role_label: str) -> None:
    """The user menu (Bootstrap dropdown) opens and names the role; closed again for the screenshots."""
    toggle = page.get_by_test_id("current-user")
    toggle.click()
    menu = page.locator(".dropdown-menu.show")
    expect(menu).to_contain_text(role_label)
    expect(menu.get_by_role("button", name="Keluar")).to_be_visible()
    toggle.click()
    expect(page.locator(".dropdown-menu.show")).to_have_count(0)


def assert_styled(page: Page) -> None:
    """Bootstrap and the app stylesheet were served: the navbar is painted in Bootstrap's primary blue."""
    background = page.locator("nav.navbar").evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(13, 110, 253)", background


# ------------------------------------------------------------------------------------------------- tests


def test_secretariat_searches_opens_and_reveals_a_nik(
    page: Page, live_server: Any, registry: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    user = make_user(
        "sekretariat", role=Role.SECRETARIAT, kind=OrganizationKind.SECRETARIAT, is_staff=True,
        first_name="Rina", last_name="Sekretariat",
    )  # fmt: skip
    household, head = registry["household"], registry["head"]

    login(page, live_server.url, user.username)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang, Rina Sekretariat")
    expect(page.get_by_test_id("current-user")).to_contain_text("Rina Sekretariat")
    assert_role_shown(page, "Sekretariat TKPK")
    expect(page.get_by_test_id("active-households")).to_have_text("3")
    assert_styled(page)
    shoot(page, screenshot_dir, "secretariat-home")

    page.get_by_role("navigation").get_by_role("link", name="Registri keluarga").click()
    expect(page.get_by_role("heading", level=1, name="Registri keluarga")).to_be_visible()
    page.get_by_label("Nama", exact=True).fill(HEAD_NAME)
    page.get_by_role("button", name="Cari").click()
    expect(page).to_have_url(re.compile(r"/registri/\?name=Siti\+Aminah"))
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(HEAD_NAME)
    expect(rows.first).to_contain_text("Blumah")
    expect(rows.first).to_contain_text("3324********0001")  # masked No KK
    expect(page.get_by_text("Sutrisno")).to_have_count(0)
    shoot(page, screenshot_dir, "secretariat-search")

    rows.first.get_by_role("link", name=HEAD_NAME).click()
    expect(page).to_have_url(f"{live_server.url}/registri/keluarga/{household.pk}/")
    expect(page.get_by_test_id("household-head")).to_have_text(HEAD_NAME)
    members = page.get_by_test_id("members")
    for member in registry["members"]:
        expect(members).to_contain_text(member.name)
    nik_cell = page.locator(f"#nik-{head.pk}")
    expect(nik_cell).to_have_text(HEAD_NIK_MASKED)
    expect(members).not_to_contain_text(HEAD_NIK)
    assert PersonalDataAccess.objects.filter(
        user=user, action=AccessAction.VIEW_HOUSEHOLD, object_ids=[household.pk]
    ).exists()
    shoot(page, screenshot_dir, "secretariat-household")

    head_row = members.locator("tr", has=page.locator(f"#nik-{head.pk}"))
    head_row.get_by_role("button", name="Buka").click()
    expect(nik_cell.get_by_test_id("revealed")).to_have_text(HEAD_NIK)
    reveal = PersonalDataAccess.objects.get(user=user, action=AccessAction.REVEAL_NIK)
    assert reveal.object_type == "person"
    assert reveal.object_ids == [head.pk]
    assert reveal.region_code == DESA
    assert reveal.ip_address == "127.0.0.1"
    # Only the one NIK was opened: the other members stay masked.
    expect(page.locator(f"#nik-{registry['members'][1].pk}")).to_have_text("3324********0002")
    shoot(page, screenshot_dir, "secretariat-household-revealed")

    # The change history tab (Bootstrap tabs): PostgreSQL records insert events, SQLite has none.
    page.get_by_role("tab", name="Riwayat perubahan").click()
    history = page.locator("#tab-history")
    expect(history).to_have_class(re.compile(r"\bshow\b"))
    page.wait_for_function("getComputedStyle(document.querySelector('#tab-history')).opacity === '1'")
    if connection.vendor == "postgresql":
        expect(history).to_contain_text("Keluarga · ditambahkan")
    else:
        expect(history).to_contain_text("Belum ada riwayat")
    expect(history).not_to_contain_text(HEAD_NIK)
    shoot(page, screenshot_dir, "secretariat-household-history")
    page_problems.assert_clean()


def test_partner_sees_only_allocated_household_and_never_a_full_nik(
    page: Page, live_server: Any, registry: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    user = make_user(
        "mitra", role=Role.PARTNER, kind=OrganizationKind.COMPANY, sector=CompanySector.PLANTATION,
        first_name="Budi", last_name="Mitra",
    )  # fmt: skip
    household = registry["household"]
    url = f"{live_server.url}/registri/keluarga/{household.pk}/"

    login(page, live_server.url, user.username)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang, Budi Mitra")
    expect(page.get_by_test_id("active-households")).to_have_text("0")

    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Halaman atau data tidak ditemukan")).to_be_visible()
    expect(page.get_by_text("berada di luar wilayah dan kewenangan Anda")).to_be_visible()
    expect(page.get_by_text(HEAD_NAME)).to_have_count(0)
    shoot(page, screenshot_dir, "partner-not-allocated-404")

    Allocation.objects.create(organization=user.test_organization, household=household, note="Bantuan bibit")

    response = page.goto(url)
    assert response is not None and response.status == 200
    expect(page.get_by_test_id("household-head")).to_have_text(HEAD_NAME)
    members = page.get_by_test_id("members")
    expect(members).to_contain_text(HEAD_NIK_MASKED)
    expect(page.locator("body")).not_to_contain_text(HEAD_NIK)
    expect(page.get_by_role("button", name="Buka")).to_have_count(0)
    expect(page.get_by_test_id("reveal-nik")).to_have_count(0)
    shoot(page, screenshot_dir, "partner-household")

    # The server refuses a reveal too, not only the missing button.
    status = page.evaluate(
        """async (url) => {
            const token = document.querySelector('[name=csrfmiddlewaretoken]').value;
            const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token}});
            return r.status;
        }""",
        f"/registri/buka/nik/{registry['head'].pk}/",
    )
    assert status == 403
    assert not PersonalDataAccess.objects.filter(user=user, action=AccessAction.REVEAL_NIK).exists()

    # Search shows the allocated household only.
    page.goto(f"{live_server.url}/registri/?name=")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(HEAD_NAME)
    page_problems.failed_requests[:] = [r for r in page_problems.failed_requests if "/registri/buka/" not in r]
    page_problems.assert_clean()


@pytest.fixture
def reset_axes() -> Any:
    import axes.utils

    axes.utils.reset()
    yield
    axes.utils.reset()


def test_five_wrong_passwords_lock_the_account(
    page: Page, live_server: Any, kendal: None, reset_axes: None, screenshot_dir: Path, page_problems: Any
) -> None:
    from axes.models import AccessAttempt

    user = make_user("opd", role=Role.OPD_OFFICER, kind=OrganizationKind.OPD)

    for attempt in range(1, 5):
        login(page, live_server.url, user.username, password=f"salah-{attempt}")
        expect(page.get_by_role("heading", name="Masuk ke TKPK")).to_be_visible()
        expect(page.get_by_role("alert")).to_be_visible()  # "Masukkan nama pengguna dan sandi yang benar..."
    shoot(page, screenshot_dir, "login-wrong-password")

    login(page, live_server.url, user.username, password="salah-5")
    expect(page.get_by_role("heading", name="Akun terkunci sementara")).to_be_visible()
    expect(page.get_by_test_id("locked-out")).to_contain_text("Terlalu banyak percobaan masuk yang gagal")
    assert AccessAttempt.objects.filter(username=user.username, failures_since_start__gte=5).exists()
    shoot(page, screenshot_dir, "locked-out")

    # The right password is refused as well while the lock holds.
    login(page, live_server.url, user.username, password=PASSWORD)
    expect(page.get_by_role("heading", name="Akun terkunci sementara")).to_be_visible()
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/akun/masuk/\?next=/$"))
    expect(page.get_by_test_id("current-user")).to_have_count(0)
    page_problems.assert_clean()


def test_leadership_sees_aggregates_but_not_the_registry(
    page: Page, live_server: Any, registry: dict[str, Any], screenshot_dir: Path, page_problems: Any
) -> None:
    user = make_user(
        "pimpinan", role=Role.LEADERSHIP, kind=OrganizationKind.SECRETARIAT, first_name="Bupati", last_name="Kendal"
    )

    login(page, live_server.url, user.username)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang, Bupati Kendal")
    assert_role_shown(page, "Pimpinan")
    expect(page.get_by_test_id("active-households")).to_have_text("3")
    expect(page.get_by_text("Desil 1 (miskin ekstrem)")).to_be_visible()
    expect(page.get_by_text("baca saja dan hanya menampilkan angka agregat")).to_be_visible()
    expect(page.get_by_role("link", name="Registri keluarga")).to_have_count(0)
    expect(page.get_by_role("link", name="Cari keluarga")).to_have_count(0)
    expect(page.get_by_role("link", name="Administrasi")).to_have_count(0)
    expect(page.get_by_text(HEAD_NAME)).to_have_count(0)
    assert_styled(page)
    shoot(page, screenshot_dir, "leadership-home")

    response = page.goto(f"{live_server.url}/registri/")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="Akses ditolak")).to_be_visible()
    shoot(page, screenshot_dir, "leadership-registry-403")

    response = page.goto(f"{live_server.url}/registri/keluarga/{registry['household'].pk}/")
    assert response is not None and response.status == 403
    page_problems.assert_clean()
