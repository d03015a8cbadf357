from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from households.choices import HouseholdStatus
from households.selectors import HouseholdFilters
from tkpk.identifiers import IdentifierError, clean_digits, normalize_region_code


class HouseholdSearchForm(forms.Form):
    name = forms.CharField(label=_("Nama"), required=False, max_length=100)
    nik = forms.CharField(label=_("NIK (lengkap)"), required=False, max_length=30)
    id_keluarga = forms.CharField(label=_("ID Keluarga"), required=False, max_length=64)
    region = forms.CharField(
        label=_("Kode wilayah"), required=False, max_length=13, help_text=_("Kecamatan atau desa, mis. 33.24.01.2001")
    )
    desil = forms.TypedChoiceField(
        label=_("Desil"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Semua"))] + [(str(d), str(d)) for d in range(1, 11)],
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("Semua")), *HouseholdStatus.choices])

    def clean_nik(self) -> str:
        value = clean_digits(self.cleaned_data["nik"])
        if value and (len(value) != 16 or not value.isdigit()):
            raise forms.ValidationError(_("Cari NIK dengan 16 digit lengkap."))
        return value

    def clean_region(self) -> str:
        value = self.cleaned_data["region"].strip()
        if not value:
            return ""
        try:
            return normalize_region_code(value)
        except IdentifierError as exc:
            raise forms.ValidationError(exc.message) from exc

    def filters(self) -> HouseholdFilters:
        data = self.cleaned_data
        return HouseholdFilters(
            name=data.get("name", ""),
            nik=data.get("nik", ""),
            id_keluarga=data.get("id_keluarga", ""),
            region=data.get("region", ""),
            desil=data.get("desil"),
            status=data.get("status", ""),
        )

    def has_criteria(self) -> bool:
        return self.is_bound and self.is_valid() and any(v not in ("", None) for v in self.cleaned_data.values())
