"""Forms of the partner (company) CSR portal: the proposal with its targets and additional families, the
proposal actions, a delivery report and the refusal letter. Shapes only: the rules live in ``csr.services``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from csr import services
from csr.models import Proposal
from programs.forms import BootstrapMixin
from programs.models import AssistanceKind, ProgramCluster, ProgramStrategy
from tkpk.models import Organization, Region, RegionLevel

DATE_WIDGET = {"type": "date"}


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")


class HouseholdIdsField(forms.TypedMultipleChoiceField):
    """Household ids checked among the allocation: validated against a set (an allocation may hold thousands,
    too many for a linear choices scan); the template renders the checkboxes itself."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, coerce=int, **kwargs)
        self.allowed: set[int] = set()

    def valid_value(self, value: Any) -> bool:
        return str(value).isdigit() and int(value) in self.allowed


class ProposalForm(BootstrapMixin, forms.Form):
    """The proposal's fields and its targets: households of the allocation (one by one, or all of a need or
    of a desa at once)."""

    title = forms.CharField(label=gettext_lazy("Judul program"), max_length=200)
    description = forms.CharField(
        label=gettext_lazy("Uraian"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    assistance_kind = forms.ModelChoiceField(
        label=gettext_lazy("Jenis bantuan"), queryset=AssistanceKind.objects.none()
    )
    cluster = forms.ModelChoiceField(label=gettext_lazy("Klaster"), queryset=ProgramCluster.objects.none())
    strategy = forms.ModelChoiceField(label=gettext_lazy("Strategi"), queryset=ProgramStrategy.objects.none())
    budget = forms.DecimalField(
        label=gettext_lazy("Anggaran (Rp)"), min_value=Decimal(0), max_digits=16, decimal_places=0
    )
    starts_on = forms.DateField(label=gettext_lazy("Jadwal mulai"), widget=_date_input())
    ends_on = forms.DateField(label=gettext_lazy("Jadwal selesai"), widget=_date_input())
    contact_name = forms.CharField(label=gettext_lazy("Narahubung"), max_length=150)
    contact_phone = forms.CharField(label=gettext_lazy("Telepon narahubung"), max_length=40, required=False)
    contact_email = forms.EmailField(label=gettext_lazy("Surel narahubung"), required=False)
    household_ids = HouseholdIdsField(label=gettext_lazy("Keluarga sasaran"), required=False)
    all_needs = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Semua alokasi untuk kebutuhan"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    all_desa = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Semua alokasi di desa/kelurahan"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    ATTRS = (
        "title",
        "description",
        "assistance_kind",
        "cluster",
        "strategy",
        "budget",
        "starts_on",
        "ends_on",
        "contact_name",
        "contact_phone",
        "contact_email",
    )

    def __init__(
        self,
        *args: Any,
        allowed_households: set[int],
        need_choices: Sequence[tuple[int, str]],
        desa_choices: Sequence[tuple[str, str]],
        proposal: Proposal | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        reference_lists: tuple[tuple[str, Any], ...] = (
            ("assistance_kind", AssistanceKind),
            ("cluster", ProgramCluster),
            ("strategy", ProgramStrategy),
        )
        for name, model in reference_lists:
            # Active rows, plus an inactive one the proposal already uses (so an edit keeps it).
            current = getattr(proposal, f"{name}_id", None)
            fields[name].queryset = model.objects.filter(Q(is_active=True) | Q(pk=current)).order_by("name")
        fields["household_ids"].allowed = allowed_households
        fields["all_needs"].choices = list(need_choices)
        fields["all_desa"].choices = list(desa_choices)
        self.style_fields()
        for name in ("all_needs", "all_desa"):
            fields[name].widget.attrs["class"] = "form-check-input"

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if isinstance(starts_on, dt.date) and isinstance(ends_on, dt.date) and ends_on < starts_on:
            self.add_error("ends_on", _("Jadwal selesai tidak boleh sebelum jadwal mulai."))
        return cleaned

    def service_attrs(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.ATTRS}
        for name in ("description", "contact_phone", "contact_email"):
            data[name] = data[name] or ""
        return data


def desa_choices_for(organization: Organization) -> list[tuple[str, list[tuple[str, str]]]]:
    """Desa/kelurahan of the partner's operating area (its TKPK region when none is set), grouped by
    kecamatan for a select."""
    codes = list(organization.area.values_list("code", flat=True)) or [organization.region_id]
    within = Q()
    for code in codes:
        within |= Q(code__startswith=code)
    desa = Region.objects.filter(within, level=RegionLevel.DESA).select_related("parent").order_by("code")
    groups: dict[str, list[tuple[str, str]]] = {}
    for row in desa:
        group = row.parent.name if row.parent is not None else ""
        groups.setdefault(group, []).append((row.code, row.name))
    return list(groups.items())


class AdditionalTargetForm(BootstrapMixin, forms.Form):
    """A family beyond the allocation, described by name and address (the secretariat links it to the
    registry during the joint field verification)."""

    name = forms.CharField(label=gettext_lazy("Nama kepala keluarga"), max_length=150, required=False)
    address = forms.CharField(label=gettext_lazy("Alamat"), max_length=300, required=False)
    desa = forms.ChoiceField(label=gettext_lazy("Kecamatan / desa"), required=False)
    reason = forms.CharField(label=gettext_lazy("Alasan diusulkan"), max_length=500, required=False)

    PARTS = ("name", "address", "desa", "reason")

    def __init__(self, *args: Any, desa_choices: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["desa"].choices = [("", "—"), *desa_choices]
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        """A row left blank is ignored; a row begun must be complete (every part is needed to find the family)."""
        cleaned: dict[str, Any] = super().clean() or {}
        if any(cleaned.get(name) for name in self.PARTS):
            for name in self.PARTS:
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, _("Wajib diisi untuk sasaran tambahan."))
        return cleaned

    def is_filled(self) -> bool:
        return bool(self.cleaned_data) and all(self.cleaned_data.get(name) for name in self.PARTS)

    def target(self) -> services.AdditionalTarget:
        desa = Region.objects.get(pk=self.cleaned_data["desa"])
        return services.AdditionalTarget(
            reason=self.cleaned_data["reason"],
            name=self.cleaned_data["name"],
            address=self.cleaned_data["address"],
            desa=desa,
        )


AdditionalTargetFormSet = forms.formset_factory(AdditionalTargetForm, extra=2, can_delete=True, max_num=50)


class ProposalActionForm(forms.Form):
    """A partner's step in the workflow (submit, withdraw with a note, implement, report with a final report)."""

    action = forms.ChoiceField(choices=[(name, name) for name, rule in services.TRANSITIONS.items()])
    note = forms.CharField(required=False, max_length=2000)
    final_report = forms.CharField(required=False, max_length=20000)


class DeliveryForm(BootstrapMixin, forms.Form):
    """One delivery to an eligible target of an agreed proposal."""

    household = forms.TypedChoiceField(label=gettext_lazy("Keluarga sasaran"), coerce=int)
    delivered_on = forms.DateField(label=gettext_lazy("Tanggal penyaluran"), widget=_date_input())
    value = forms.DecimalField(
        label=gettext_lazy("Nilai (Rp)"), min_value=Decimal(0), max_digits=14, decimal_places=0, required=False
    )
    quantity = forms.DecimalField(
        label=gettext_lazy("Jumlah"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2, initial=Decimal(1)
    )
    note = forms.CharField(label=gettext_lazy("Keterangan"), max_length=300, required=False)

    def __init__(self, *args: Any, household_choices: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields
        fields["household"].choices = [("", "—"), *household_choices]
        self.style_fields()


class RefusalForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Alasan tidak berpartisipasi"),
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Surat ditujukan kepada Bupati/Wali Kota melalui Bappeda."),
    )
    signatory_name = forms.CharField(label=gettext_lazy("Nama penanda tangan"), max_length=150)
    signatory_position = forms.CharField(label=gettext_lazy("Jabatan penanda tangan"), max_length=150)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_fields()
