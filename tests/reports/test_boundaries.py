"""GeoJSON boundary upload: validation messages (Bahasa Indonesia, naming the feature) and the admin form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from reports.boundaries import boundary_validate
from reports.models import RegionBoundarySet
from tests import factories as f
from tkpk.models import Region
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

SQUARE = [[[110.0, -6.9], [110.1, -6.9], [110.1, -7.0], [110.0, -7.0], [110.0, -6.9]]]


def feature(code: Any, geometry: dict[str, Any] | None = None, prop: str = "kode") -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {prop: code} if code is not None else {},
        "geometry": geometry if geometry is not None else {"type": "Polygon", "coordinates": SQUARE},
    }


def collection(*features: dict[str, Any]) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


@pytest.fixture
def kendal() -> Region:
    f.load_kendal()
    return f.region(f.KENDAL)


def test_valid_file_with_dotted_plain_and_numeric_codes_and_multipolygon(kendal: Region) -> None:
    multi = {"type": "MultiPolygon", "coordinates": [SQUARE, SQUARE]}
    check = boundary_validate(
        content=collection(feature("33.24.01"), feature("332402"), feature(332403, multi)).encode(),
        region=kendal,
        level=3,
    )
    assert check.errors == []
    assert check.is_valid and check.feature_count == 3
    assert check.geojson is not None and len(check.geojson["features"]) == 3


def test_desa_level_under_a_kecamatan_and_another_code_property(kendal: Region) -> None:
    kec = f.region("332401")
    desa = Region.objects.filter(parent=kec).order_by("code").first()
    other = Region.objects.filter(parent_id="332402").order_by("code").first()
    assert desa is not None and other is not None
    ok = boundary_validate(content=collection(feature(desa.code, prop="KDEPUM")), region=kec, level=4,
                           code_property="KDEPUM")  # fmt: skip
    assert ok.is_valid
    bad = boundary_validate(content=collection(feature(desa.code), feature(other.dotted_code)), region=kec, level=4)
    assert bad.errors == [f"Fitur ke-2: kode {other.dotted_code} bukan desa/kelurahan di bawah {kec}."]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Berkas bukan JSON yang sah (baris 1, kolom 2)."),
        (b"\xff\xfe\x00", "Berkas bukan teks UTF-8."),
        (json.dumps({"type": "Feature"}).encode(), "Berkas harus berupa GeoJSON FeatureCollection."),
        (json.dumps([1, 2]).encode(), "Berkas harus berupa GeoJSON FeatureCollection."),
        (json.dumps({"type": "FeatureCollection", "features": []}).encode(), "FeatureCollection tidak berisi fitur."),
    ],
)
def test_file_level_errors(kendal: Region, content: bytes, message: str) -> None:
    check = boundary_validate(content=content, region=kendal, level=3)
    assert check.errors == [message]
    assert not check.is_valid and check.geojson is None


def test_feature_errors_name_the_feature_number(kendal: Region) -> None:
    point = {"type": "Point", "coordinates": [110.0, -6.9]}
    broken = {"type": "Polygon", "coordinates": [[[110.0, -6.9], [110.1, -6.9]]]}
    content = collection(
        feature("33.24.01"),
        feature("33.24.02", point),
        feature(None),
        feature("33.25.01"),
        feature("3324010"),
        feature("33.24.01"),
        feature("33.24.03", broken),
        {"type": "Something"},
    )
    check = boundary_validate(content=content, region=kendal, level=3)
    assert check.errors == [
        "Fitur ke-2: geometri Point; hanya Polygon atau MultiPolygon yang diterima.",
        "Fitur ke-3: tidak ada properti kode wilayah 'kode'.",
        f"Fitur ke-4: kode 33.25.01 bukan kecamatan di bawah {kendal}.",
        f"Fitur ke-5: kode 3324010 bukan kecamatan di bawah {kendal}.",
        "Fitur ke-6: kode 33.24.01 sudah dipakai fitur ke-1.",
        "Fitur ke-7: koordinat Polygon tidak sah.",
        "Fitur ke-8: bukan objek Feature.",
    ]
    assert check.geojson is None and check.feature_count == 0


def test_level_must_lie_below_the_region(kendal: Region) -> None:
    kec = f.region("332401")
    assert boundary_validate(content=collection(feature("33.24.01")), region=kec, level=3).errors == [
        f"Wilayah induk {kec} tidak punya kecamatan di bawahnya."
    ]
    assert boundary_validate(content=collection(feature("33.24.01")), region=kendal, level=2).errors == [
        "Tingkat batas harus kecamatan atau desa/kelurahan."
    ]


def test_error_list_is_capped(kendal: Region) -> None:
    content = collection(*[feature(f"99.99.{n:02d}") for n in range(30)])
    errors = boundary_validate(content=content, region=kendal, level=3).errors
    assert len(errors) == 21 and errors[-1] == "Masih ada kesalahan lain; perbaiki yang di atas dulu."


# ------------------------------------------------------------------------------------------------ admin


def admin_client(kendal: Region) -> tuple[Client, Any]:
    user = f.user_with_role(Role.SECRETARIAT)
    client = Client()
    client.force_login(user)
    return client, user


def test_admin_upload_stores_the_validated_file(kendal: Region) -> None:
    client, user = admin_client(kendal)
    upload = SimpleUploadedFile("kendal.geojson", collection(feature("33.24.01"), feature("33.24.02")).encode())
    response = client.post(
        reverse("admin:reports_regionboundaryset_add"),
        {"region": kendal.code, "level": 3, "name": "Batas kecamatan Kendal", "code_property": "kode",
         "geojson_file": upload},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    boundary = RegionBoundarySet.objects.get()
    assert boundary.feature_count == 2 and boundary.uploaded_by == user and not boundary.is_schematic
    assert boundary.geojson["features"][0]["properties"]["kode"] == "33.24.01"


def test_admin_upload_shows_the_errors_and_stores_nothing(kendal: Region) -> None:
    client, _ = admin_client(kendal)
    upload = SimpleUploadedFile("salah.geojson", collection(feature("33.24.01"), feature("33.25.01")).encode())
    response = client.post(
        reverse("admin:reports_regionboundaryset_add"),
        {"region": kendal.code, "level": 3, "name": "Salah", "code_property": "kode", "geojson_file": upload},
    )
    assert response.status_code == 200
    assert "Fitur ke-2: kode 33.25.01 bukan kecamatan" in response.content.decode()
    missing = client.post(
        reverse("admin:reports_regionboundaryset_add"),
        {"region": kendal.code, "level": 3, "name": "Tanpa berkas", "code_property": "kode"},
    )
    assert "Unggah berkas GeoJSON." in missing.content.decode()
    assert not RegionBoundarySet.objects.exists()


def test_admin_lists_are_scoped_and_runs_are_read_only(kendal: Region) -> None:
    client, _ = admin_client(kendal)
    f.load_region("33.25")
    RegionBoundarySet.objects.create(region=kendal, level=3, name="Batas Kendal", geojson={}, feature_count=0)
    RegionBoundarySet.objects.create(region=f.region("3325"), level=3, name="Batas Batang", geojson={})
    html = client.get(reverse("admin:reports_regionboundaryset_changelist")).content.decode()
    assert "Batas Kendal" in html and "Batas Batang" not in html
    assert client.get(reverse("admin:reports_gaprun_add")).status_code == 403
    assert client.get(reverse("admin:reports_needrule_changelist")).status_code == 200
    form = client.get(reverse("admin:reports_regiontarget_add")).content.decode()
    assert 'value="3324"' in form and 'value="3325"' not in form
