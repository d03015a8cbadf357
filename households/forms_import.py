"""Forms of the import pages: shape only (which files for which source); the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from households.importing.jobs import ALLOWED_SUFFIXES
from households.importing.types import DTKS, DTSEN, FAMILY, PERSON
from tkpk.models import Region

SOURCE_CHOICES = [
    ("p3ke", _("P3KE (berkas keluarga + berkas anggota keluarga)")),
    ("dtks", _("DTKS (satu berkas)")),
    ("dtsen", _("DTSEN (satu berkas)")),
]
ACCEPT = ",".join(ALLOWED_SUFFIXES)


def _file_field(label: Any, help_text: Any = "") -> forms.FileField:
    return forms.FileField(
        label=label,
        required=False,
        help_text=help_text,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT, "class": "form-control"}),
    )


class ImportUploadForm(forms.Form):
    source = forms.ChoiceField(
        label=_("Sumber data"),
        choices=SOURCE_CHOICES,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial="p3ke",
    )
    family_file = _file_field(_("Berkas keluarga P3KE"), _("Satu baris per keluarga (ID Keluarga P3KE)."))
    person_file = _file_field(_("Berkas anggota keluarga P3KE"), _("Satu baris per individu (ID Individu)."))
    single_file = _file_field(_("Berkas DTKS/DTSEN"), _("Satu baris per individu."))
    snapshot_label = forms.CharField(
        label=_("Label snapshot"),
        max_length=100,
        widget=forms.TextInput(attrs={"class": "form-control", "placeholder": _("mis. P3KE 2024 Semester 1")}),
    )
    snapshot_date = forms.DateField(
        label=_("Tanggal data"), widget=forms.DateInput(attrs={"type": "date", "class": "form-control"})
    )
    region = forms.ChoiceField(label=_("Wilayah TKPK"), widget=forms.Select(attrs={"class": "form-select"}))
    dry_run = forms.BooleanField(
        label=_("Uji coba saja (periksa dan hitung, tanpa menulis ke registri)"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )

    def __init__(self, *args: Any, regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = {region.code: region for region in regions}
        region_field = self.fields["region"]
        assert isinstance(region_field, forms.ChoiceField)
        region_field.choices = [(r.code, f"{r.dotted_code} {r.name}") for r in regions]
        if len(regions) == 1:
            self.fields["region"].initial = regions[0].code
            self.fields["region"].widget = forms.HiddenInput()

    def clean_region(self) -> Region:
        return self.regions[self.cleaned_data["region"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        source = cleaned.get("source")
        needed = {"p3ke": ("family_file", "person_file"), "dtks": ("single_file",), "dtsen": ("single_file",)}
        for name in needed.get(str(source), ()):
            if not cleaned.get(name):
                self.add_error(name, _("Pilih berkas .xlsx atau .csv."))
        for name in ("family_file", "person_file", "single_file"):
            upload: UploadedFile | None = cleaned.get(name)
            if upload is not None and upload.size is not None and upload.size > settings.IMPORT_MAX_UPLOAD_BYTES:
                limit = settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)
                self.add_error(name, _("Berkas lebih besar dari %(limit)s MB.") % {"limit": limit})
        return cleaned

    def files_by_kind(self) -> dict[str, UploadedFile]:
        data = self.cleaned_data
        if data["source"] == "p3ke":
            return {FAMILY: data["family_file"], PERSON: data["person_file"]}
        return {DTKS if data["source"] == "dtks" else DTSEN: data["single_file"]}


class ImportConfirmForm(forms.Form):
    accept_duplicate = forms.BooleanField(
        label=_("Ya, lanjutkan impor walaupun berkas ini sudah pernah diimpor"),
        required=False,
        widget=forms.CheckboxInput(attrs={"class": "form-check-input"}),
    )
