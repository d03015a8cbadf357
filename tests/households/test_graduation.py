"""Single graduation (secretariat) and its revocation: household status, Graduation row, history, page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from households import selectors
from households.choices import HouseholdStatus
from households.models import Graduation
from households.services import graduation_revoke, household_graduate
from tests.factories import HouseholdFactory, load_kendal, user_with_role
from tkpk.exceptions import DomainError
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

GRADUATED_ON = dt.date(2026, 6, 15)


@pytest.fixture(autouse=True)
def regions() -> None:
    load_kendal()


@pytest.fixture
def secretariat() -> object:
    return user_with_role(Role.SECRETARIAT, "3324")


def test_graduate_sets_status_and_records_the_decision(secretariat: object, settings: object, tmp_path: object) -> None:
    settings.MEDIA_ROOT = str(tmp_path)  # type: ignore[attr-defined]
    household = HouseholdFactory()
    evidence = SimpleUploadedFile("berita-acara.pdf", b"%PDF-1.4 uji")
    graduation = household_graduate(
        actor=secretariat,
        household=household,
        graduated_on=GRADUATED_ON,
        reason="  Usaha mandiri  ",
        evidence=evidence,
        evidence_note="Berita acara desa",
    )
    household.refresh_from_db()
    assert household.status == HouseholdStatus.GRADUATED and household.status_changed_on == GRADUATED_ON
    assert household.status_reason == "Usaha mandiri" and household.status_verified_by == secretariat
    assert graduation.household == household and graduation.reason == "Usaha mandiri"
    assert graduation.verified_by == secretariat and graduation.evidence_note == "Berita acara desa"
    assert graduation.evidence.name.startswith("graduation/") and graduation.evidence.read() == b"%PDF-1.4 uji"
    assert graduation.import_job is None and graduation.revoked_on is None
    if connection.vendor == "postgresql":
        assert any("status" in (e.pgh_diff or {}) for e in selectors.household_history(household=household))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"reason": "  "}, "reason_required"),
        ({"graduated_on": timezone.localdate() + dt.timedelta(days=1)}, "future_date"),
    ],
)
def test_graduate_refuses_bad_input(secretariat: object, change: dict[str, object], code: str) -> None:
    household = HouseholdFactory()
    arguments: dict[str, object] = {"graduated_on": GRADUATED_ON, "reason": "Mandiri", **change}
    with pytest.raises(DomainError) as caught:
        household_graduate(actor=secretariat, household=household, **arguments)  # type: ignore[arg-type]
    assert caught.value.code == code
    household.refresh_from_db()
    assert household.status == HouseholdStatus.ACTIVE and not Graduation.objects.exists()


def test_only_active_households_of_the_region_by_the_secretariat(secretariat: object) -> None:
    moved = HouseholdFactory(status=HouseholdStatus.MOVED, status_changed_on=dt.date(2025, 1, 1))
    with pytest.raises(DomainError, match="Hanya keluarga aktif"):
        household_graduate(actor=secretariat, household=moved, graduated_on=GRADUATED_ON, reason="x")
    opd = user_with_role(Role.OPD_OFFICER, "3324")
    with pytest.raises(DomainError) as caught:
        household_graduate(actor=opd, household=HouseholdFactory(), graduated_on=GRADUATED_ON, reason="x")
    assert caught.value.code == "forbidden"
    other = user_with_role(Role.SECRETARIAT, "332402")  # the household lives in kecamatan 33.24.01
    with pytest.raises(DomainError) as caught:
        household_graduate(actor=other, household=HouseholdFactory(), graduated_on=GRADUATED_ON, reason="x")
    assert caught.value.code == "out_of_scope"
    assert not Graduation.objects.exists()


def test_revoke_keeps_the_row_and_reactivates(secretariat: object) -> None:
    household = HouseholdFactory()
    graduation = household_graduate(actor=secretariat, household=household, graduated_on=GRADUATED_ON, reason="x")
    with pytest.raises(DomainError, match="sebelum tanggal graduasi"):
        graduation_revoke(actor=secretariat, graduation=graduation, revoked_on=dt.date(2026, 1, 1), reason="salah")
    revoked = graduation_revoke(
        actor=secretariat, graduation=graduation, revoked_on=dt.date(2026, 7, 1), reason="Salah data"
    )
    household.refresh_from_db()
    assert revoked.revoked_on == dt.date(2026, 7, 1) and Graduation.objects.filter(pk=graduation.pk).exists()
    assert household.status == HouseholdStatus.ACTIVE and household.status_reason == "Salah data"
    with pytest.raises(DomainError, match="sudah dibatalkan"):
        graduation_revoke(actor=secretariat, graduation=graduation, revoked_on=dt.date(2026, 7, 2), reason="lagi")
    # A later graduation adds a new row; the revoked one stays.
    household_graduate(actor=secretariat, household=household, graduated_on=dt.date(2026, 8, 1), reason="Lagi")
    assert Graduation.objects.filter(household=household).count() == 2


def test_household_page_form_and_views(secretariat: object) -> None:
    household = HouseholdFactory()
    client = Client()
    client.force_login(secretariat)  # type: ignore[arg-type]
    detail = reverse("households:detail", args=[household.pk])
    assert 'data-testid="graduation-form"' in client.get(detail).content.decode()
    response = client.post(
        reverse("households:graduate", args=[household.pk]),
        {"graduated_on": "2026-06-15", "reason": "Penghasilan cukup", "evidence_note": "Surat desa"},
    )
    assert response.status_code == 302 and response["Location"] == detail
    household.refresh_from_db()
    assert household.status == HouseholdStatus.GRADUATED
    page = client.get(detail).content.decode()
    assert "Penghasilan cukup" in page and 'data-testid="graduation-form"' not in page
    graduation = Graduation.objects.get()
    client.post(reverse("households:graduation-revoke", args=[graduation.pk]), {"reason": "Keliru"})
    household.refresh_from_db()
    assert household.status == HouseholdStatus.ACTIVE
    graduation.refresh_from_db()
    assert graduation.revoked_on == timezone.localdate()
    # A missing date is reported, nothing written.
    client.post(reverse("households:graduate", args=[household.pk]), {"reason": "x"})
    assert Graduation.objects.count() == 1


def test_opd_sees_no_form_and_may_not_post() -> None:
    household = HouseholdFactory()
    opd = user_with_role(Role.OPD_OFFICER, "3324")
    client = Client()
    client.force_login(opd)
    assert (
        'data-testid="graduation-form"'
        not in client.get(reverse("households:detail", args=[household.pk])).content.decode()
    )
    response = client.post(
        reverse("households:graduate", args=[household.pk]), {"graduated_on": "2026-06-15", "reason": "x"}
    )
    assert response.status_code == 403
    household.refresh_from_db()
    assert household.status == HouseholdStatus.ACTIVE
