"""Forms of the secretariat's CSR pages: they check shape only; the rules live in csr.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from csr.models import CycleStatus, VerificationResult
from programs.models import AssistanceKind
from reports.models import NeedRule
from tkpk.models import CompanySector, Organization, Region

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class BootstrapMixin:
    """Bootstrap classes on every widget."""

    fields: dict[str, forms.Field]

    def style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")


class CycleForm(BootstrapMixin, forms.Form):
    region = forms.ModelChoiceField(label=_("Wilayah TKPK"), queryset=Region.objects.none())
    year = forms.IntegerField(label=_("Tahun"), min_value=2000, max_value=2100)
    name = forms.CharField(label=_("Nama siklus"), max_length=150, help_text=_("Mis. Musrenbang CSR 2027"))
    proposal_deadline = forms.DateTimeField(label=_("Batas pengajuan usulan"), widget=DATETIME_WIDGET)
    verification_starts = forms.DateField(label=_("Verifikasi lapangan mulai"), widget=DATE_WIDGET)
    verification_ends = forms.DateField(label=_("Verifikasi lapangan selesai"), widget=DATE_WIDGET)
    realisation_deadline = forms.DateField(label=_("Batas realisasi"), widget=DATE_WIDGET)
    status = forms.ChoiceField(label=_("Status"), choices=CycleStatus.choices, initial=CycleStatus.OPEN)
    required_sectors = forms.MultipleChoiceField(
        label=_("Sektor wajib berpartisipasi"),
        choices=CompanySector.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Perusahaan sektor ini wajib mengambil setidaknya satu program atau menyatakan alasannya."),
    )
    note = forms.CharField(label=_("Keterangan"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, regions: Any = None, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["region"]
        else:
            region_field = self.fields["region"]
            assert isinstance(region_field, forms.ModelChoiceField)
            region_field.queryset = regions
            if regions is not None and regions.count() == 1:
                self.fields["region"].initial = regions.first()
        self.style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        starts, ends = data.get("verification_starts"), data.get("verification_ends")
        if starts and ends and ends < starts:
            self.add_error("verification_ends", _("Verifikasi selesai tidak boleh sebelum tanggal mulai."))
        return data


class ReopenForm(BootstrapMixin, forms.Form):
    until = forms.DateTimeField(label=_("Dibuka sampai"), widget=DATETIME_WIDGET)
    note = forms.CharField(label=_("Catatan"), max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()


DESIL_CHOICES = [("", _("Semua desil"))] + [(str(d), str(d)) for d in range(1, 11)]


class AllocateForm(BootstrapMixin, forms.Form):
    """Partner, need and the gap list's filters; the override and limit only matter when allocating."""

    organization = forms.ModelChoiceField(label=_("Mitra"), queryset=Organization.objects.none())
    assistance_kind = forms.ModelChoiceField(
        label=_("Kebutuhan (jenis bantuan)"), queryset=AssistanceKind.objects.filter(is_active=True)
    )
    region = forms.ChoiceField(label=_("Kecamatan/desa"), required=False)
    desil = forms.ChoiceField(label=_("Desil"), choices=DESIL_CHOICES, required=False, initial="1")
    need = forms.ChoiceField(label=_("Kebutuhan belum terpenuhi"), required=False)
    uncovered = forms.BooleanField(label=_("Belum terjangkau program"), required=False, initial=True)
    not_allocated = forms.BooleanField(
        label=_("Belum dialokasikan"),
        required=False,
        initial=True,
        help_text=_("Belum dialokasikan ke mitra mana pun pada siklus ini."),
    )
    override = forms.BooleanField(
        label=_("Sertakan keluarga yang sudah dialokasikan ke mitra lain untuk kebutuhan ini"), required=False
    )
    override_reason = forms.CharField(label=_("Alasan alokasi ganda"), max_length=300, required=False)
    limit = forms.IntegerField(
        label=_("Jumlah maksimal"),
        min_value=1,
        required=False,
        help_text=_("Kosongkan untuk semua keluarga yang cocok; desil terendah lebih dulu."),
    )
    note = forms.CharField(label=_("Catatan"), max_length=300, required=False)

    def __init__(self, *args: Any, partners: list[Organization], regions: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organization_field, region_field, need_field = (
            self.fields["organization"],
            self.fields["region"],
            self.fields["need"],
        )
        assert isinstance(organization_field, forms.ModelChoiceField)
        assert isinstance(region_field, forms.ChoiceField) and isinstance(need_field, forms.ChoiceField)
        organization_field.queryset = Organization.objects.filter(pk__in=[p.pk for p in partners])
        region_field.choices = [("", _("Seluruh wilayah kerja mitra"))] + [
            (r.code, f"{'— ' if r.level == 4 else ''}{r.name} ({r.dotted_code})") for r in regions
        ]
        needs = NeedRule.objects.filter(is_active=True).values_list("code", "name")
        need_field.choices = [("", _("Semua")), *needs]
        self.style()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("override") and not (data.get("override_reason") or "").strip():
            self.add_error("override_reason", _("Tuliskan alasan bila menyertakan keluarga milik mitra lain."))
        return data

    def gap_params(self, year: int) -> dict[str, str]:
        """The gap list's query parameters (parsed by reports.selectors.gap_list_filters_parse)."""
        data = self.cleaned_data
        return {
            "year": str(year),
            "region": data.get("region") or "",
            "desil": data.get("desil") or "",
            "need": data.get("need") or "",
            "uncovered": "1" if data.get("uncovered") else "",
        }


class ReleaseForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Alasan pengembalian"), max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()


VERIFY_CHOICES = [("", _("— pilih —"))] + [
    (value, label) for value, label in VerificationResult.choices if value != VerificationResult.PENDING
]


class AgreeForm(BootstrapMixin, forms.Form):
    number = forms.CharField(label=_("Nomor PKS"), max_length=100)
    signed_on = forms.DateField(label=_("Tanggal penandatanganan"), widget=DATE_WIDGET)
    place = forms.CharField(label=_("Tempat penandatanganan"), max_length=100, required=False)
    government_signatory = forms.CharField(label=_("Penandatangan pemerintah daerah"), max_length=200)
    company_signatory = forms.CharField(label=_("Penandatangan mitra"), max_length=200)
    note = forms.CharField(label=_("Catatan"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()


class NoteForm(BootstrapMixin, forms.Form):
    note = forms.CharField(label=_("Catatan"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()
