"""Forms of the activity report pages: shape only; the rules (who, which status, required note) live in
programs.activity."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from programs.activity import BoardStatus, Period, period_from_key
from tkpk.models import Organization, Region


class ActivityReportStartForm(forms.Form):
    organization = forms.ChoiceField(label=_("Organisasi"), widget=forms.Select(attrs={"class": "form-select"}))
    period = forms.ChoiceField(label=_("Periode"), widget=forms.Select(attrs={"class": "form-select"}))

    def __init__(self, *args: Any, organizations: list[Organization], periods: list[Period], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organizations = {str(o.pk): o for o in organizations}
        self.periods = {p.key: p for p in periods}
        organization_field = self.fields["organization"]
        period_field = self.fields["period"]
        assert isinstance(organization_field, forms.ChoiceField) and isinstance(period_field, forms.ChoiceField)
        organization_field.choices = [(str(o.pk), o.name) for o in organizations]
        period_field.choices = [(p.key, p.label) for p in periods]
        if len(organizations) == 1:
            organization_field.initial = str(organizations[0].pk)
            organization_field.widget = forms.HiddenInput()

    def clean_organization(self) -> Organization:
        return self.organizations[self.cleaned_data["organization"]]

    def clean_period(self) -> Period:
        return self.periods[self.cleaned_data["period"]]


class ActivityReportEditForm(forms.Form):
    ACTIONS = ("save", "refresh", "submit")

    narrative = forms.CharField(
        label=_("Uraian kegiatan"),
        required=False,
        max_length=20000,
        help_text=_("Apa yang dilaksanakan pada periode ini: kegiatan, sasaran, hasil. Wajib diisi sebelum diajukan."),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 6}),
    )
    obstacles = forms.CharField(
        label=_("Kendala dan tindak lanjut"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )
    # Which button was pressed; none (e.g. Enter in a field) saves the draft.
    action = forms.ChoiceField(choices=[(a, a) for a in ACTIONS], required=False, widget=forms.HiddenInput())


class ActivityReportReviewForm(forms.Form):
    note = forms.CharField(
        label=_("Catatan untuk pelapor"),
        required=False,
        max_length=5000,
        help_text=_("Wajib diisi jika laporan dikembalikan: tuliskan apa yang perlu diperbaiki."),
        widget=forms.Textarea(attrs={"class": "form-control", "rows": 4}),
    )
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("return", "return")], widget=forms.HiddenInput())


class BoardFilterForm(forms.Form):
    """The board's GET filters; invalid values fall back to the defaults (current period, every status)."""

    region = forms.ChoiceField(
        label=_("Wilayah TKPK"), required=False, widget=forms.Select(attrs={"class": "form-select"})
    )
    periode = forms.ChoiceField(label=_("Periode"), required=False, widget=forms.Select(attrs={"class": "form-select"}))
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Semua status")), *BoardStatus.CHOICES],
        widget=forms.Select(attrs={"class": "form-select"}),
    )

    def __init__(self, *args: Any, regions: list[Region], periods: list[Period], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in regions}
        self.default_period = periods[0]
        region_field = self.fields["region"]
        period_field = self.fields["periode"]
        assert isinstance(region_field, forms.ChoiceField) and isinstance(period_field, forms.ChoiceField)
        region_field.choices = [(r.code, f"{r.dotted_code} {r.name}") for r in regions]
        period_field.choices = [(p.key, p.label) for p in periods]
        if len(regions) <= 1:
            region_field.widget = forms.HiddenInput()

    def clean_region(self) -> Region | None:
        return self.regions.get(self.cleaned_data.get("region") or "")

    def clean_periode(self) -> Period:
        return period_from_key(self.cleaned_data.get("periode") or "") or self.default_period

    def values(self, default_region: Region) -> tuple[Region, Period, str]:
        """(region, period, status) from valid input, else the defaults."""
        if not self.is_bound or not self.is_valid():
            return default_region, self.default_period, ""
        data = self.cleaned_data
        return data.get("region") or default_region, data["periode"], data.get("status") or ""
