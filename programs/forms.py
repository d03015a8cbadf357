"""Forms of the program portal: they check shape and choices; every rule lives in programs.services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import FileExtensionValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.models import Household, Person
from programs import services
from programs.models import (
    AssistanceKind,
    FundingSource,
    InterventionStatus,
    Program,
    ProgramCluster,
    ProgramStrategy,
)
from programs.selectors import ProgramFilters
from tkpk.exceptions import DomainError
from tkpk.identifiers import IdentifierError, clean_digits, normalize_region_code
from tkpk.models import Organization, Region, RegionLevel

EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
EVIDENCE_EXTENSIONS = ["pdf", "jpg", "jpeg", "png"]
TARGET_REGION_LIMIT = 2000


class BootstrapMixin:
    """Bootstrap classes on every widget (the templates lay fields out themselves)."""

    def style_fields(self) -> None:
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def apply_domain_error(form: forms.BaseForm, error: DomainError) -> None:
    """Put a service's refusal beside the fields it names (``extra['fields']``), else on top of the form."""
    fields = error.extra.get("fields") or {}
    placed = False
    for name, messages in fields.items():
        target = name if name in form.fields else None
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(target, str(message))
            placed = True
    if not placed:
        form.add_error(None, error.message)


# ---------------------------------------------------------------------------------------------- filters


class ProgramFilterForm(BootstrapMixin, forms.Form):
    year = forms.TypedChoiceField(label=_("Tahun"), required=False, coerce=int, empty_value=None)
    cluster = forms.ModelChoiceField(label=_("Klaster"), required=False, queryset=ProgramCluster.objects.all())
    strategy = forms.ModelChoiceField(label=_("Strategi"), required=False, queryset=ProgramStrategy.objects.all())
    organization = forms.ModelChoiceField(label=_("Pelaksana"), required=False, queryset=Organization.objects.none())
    funding_source = forms.ChoiceField(label=_("Sumber dana"), required=False)
    q = forms.CharField(label=_("Cari program"), required=False, max_length=100)

    def __init__(self, *args: Any, user: Any, years: list[int], show_organization: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields  # typed loosely: the concrete field classes differ
        fields["year"].choices = [("", _("Semua tahun")), *[(str(y), str(y)) for y in years]]
        fields["funding_source"].choices = [("", _("Semua")), *FundingSource.choices]
        fields["cluster"].empty_label = _("Semua")
        fields["strategy"].empty_label = _("Semua")
        if show_organization:
            fields["organization"].queryset = Organization.objects.for_user(user).order_by("name")
            fields["organization"].empty_label = _("Semua")
        else:
            del fields["organization"]
        self.style_fields()

    def filters(self) -> ProgramFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        organization = data.get("organization")
        return ProgramFilters(
            year=data.get("year"),
            organization_id=organization.pk if organization else None,
            cluster_id=data["cluster"].pk if data.get("cluster") else None,
            strategy_id=data["strategy"].pk if data.get("strategy") else None,
            funding_source=data.get("funding_source", ""),
            query=(data.get("q") or "").strip(),
        )


class InterventionFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    kecamatan = forms.ChoiceField(label=_("Kecamatan"), required=False)
    q = forms.CharField(label=_("Nama kepala keluarga"), required=False, max_length=100)

    def __init__(self, *args: Any, kecamatan_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields  # typed loosely: the concrete field classes differ
        fields["status"].choices = [("", _("Semua")), *InterventionStatus.choices]
        fields["kecamatan"].choices = [("", _("Semua")), *kecamatan_choices]
        self.style_fields()

    def values(self) -> dict[str, str]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "status": data.get("status", ""),
            "desa": data.get("kecamatan", ""),
            "query": (data.get("q") or "").strip(),
        }


# --------------------------------------------------------------------------------------------- programs


class ProgramForm(BootstrapMixin, forms.ModelForm):
    """Create/edit a program. The service decides who may own it and where it may target."""

    class Meta:
        model = Program
        fields = [
            "organization",
            "code",
            "name",
            "year",
            "cluster",
            "strategy",
            "assistance_kind",
            "funding_source",
            "budget",
            "unit_value",
            "target_households",
            "target_regions",
            "outside_region_policy",
            "max_desil",
            "starts_on",
            "ends_on",
            "once_per_year",
            "eligibility_note",
            "description",
            "is_active",
        ]
        widgets = {
            "starts_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "ends_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "eligibility_note": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "target_regions": forms.SelectMultiple(attrs={"size": 8}),
        }

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields  # typed loosely: the concrete field classes differ
        self.user = user
        organizations = services.organizations_for_programs(actor=user).order_by("name")
        fields["organization"].queryset = organizations
        reference_lists: tuple[tuple[str, Any], ...] = (
            ("cluster", ProgramCluster),
            ("strategy", ProgramStrategy),
            ("assistance_kind", AssistanceKind),
        )
        for name, model in reference_lists:
            # Active rows, plus an inactive one the program already uses (so an edit keeps it).
            current = getattr(self.instance, f"{name}_id", None)
            fields[name].queryset = model.objects.filter(Q(is_active=True) | Q(pk=current))
        if not self.instance.pk:
            today = timezone.localdate()
            self.initial.setdefault("year", today.year)
            self.initial.setdefault("starts_on", dt.date(today.year, 1, 1))
            self.initial.setdefault("ends_on", dt.date(today.year, 12, 31))
            if organizations.count() == 1:
                self.initial.setdefault("organization", organizations.first())
        regions = Region.objects.for_user(user).filter(level__gte=RegionLevel.KECAMATAN)
        if regions.count() > TARGET_REGION_LIMIT:
            regions = regions.filter(level=RegionLevel.KECAMATAN)
        fields["target_regions"].queryset = regions.order_by("code")
        fields["target_regions"].help_text = _(
            "Kosong = seluruh wilayah TKPK. Tahan Ctrl untuk memilih beberapa kecamatan atau desa."
        )
        self.style_fields()

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        code, year = cleaned.get("code"), cleaned.get("year")
        if code and year:
            taken = Program.objects.filter(code=code, year=year).exclude(pk=self.instance.pk)
            if taken.exists():
                # Beside the field (the model constraint would say it on top of the form, less clearly).
                self.add_error(
                    "code", _("Kode %(code)s sudah dipakai program lain tahun %(year)s.") % {"code": code, "year": year}
                )
        return cleaned

    def service_attrs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("target_regions", None)
        return data


# ---------------------------------------------------------------------------------------- interventions


class HouseholdFinderForm(forms.Form):
    """What the officer types to find a household: name, exact NIK, ID Keluarga, desa code."""

    q = forms.CharField(label=_("Nama, NIK, atau ID Keluarga P3KE"), required=False, max_length=100)
    desa = forms.CharField(label=_("Kode desa/kecamatan"), required=False, max_length=13)

    def clean_desa(self) -> str:
        value = (self.cleaned_data.get("desa") or "").strip()
        if not value:
            return ""
        try:
            return normalize_region_code(value)
        except IdentifierError as exc:
            raise forms.ValidationError(exc.message) from exc

    def criteria(self) -> dict[str, str]:
        """Sixteen digits are a NIK, other text with digits an ID Keluarga, the rest a name."""
        text = (self.cleaned_data.get("q") or "").strip()
        digits = clean_digits(text)
        found = {"name": "", "nik": "", "id_keluarga": "", "desa": self.cleaned_data.get("desa", "")}
        if len(digits) == 16 and digits.isdigit():
            found["nik"] = digits
        elif text and any(c.isdigit() for c in text):
            found["id_keluarga"] = text
        else:
            found["name"] = text
        return found

    def has_criteria(self) -> bool:
        if not (self.is_bound and self.is_valid()):
            return False
        criteria = self.criteria()
        return len(criteria["name"]) >= 3 or any(criteria[k] for k in ("nik", "id_keluarga", "desa"))


class InterventionForm(BootstrapMixin, forms.Form):
    """Log one delivery. Choices are scoped to the officer; the rules and the duplicate guard are the service's."""

    program = forms.ModelChoiceField(label=_("Program"), queryset=Program.objects.none())
    household = forms.ModelChoiceField(
        label=_("Keluarga"),
        queryset=Household.objects.none(),
        widget=forms.HiddenInput,
        error_messages={"required": _("Cari dan pilih keluarga penerima.")},
    )
    person = forms.ModelChoiceField(
        label=_("Anggota keluarga penerima"), required=False, queryset=Person.objects.none()
    )
    status = forms.ChoiceField(
        label=_("Status"),
        choices=[(InterventionStatus.DELIVERED, InterventionStatus.DELIVERED.label),
                 (InterventionStatus.PLANNED, InterventionStatus.PLANNED.label)],
        initial=InterventionStatus.DELIVERED,
    )  # fmt: skip
    delivered_on = forms.DateField(
        label=_("Tanggal penyaluran"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    value = forms.DecimalField(
        label=_("Nilai (Rp)"),
        required=False,
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=0,
        help_text=_("Kosong = nilai per keluarga program."),
    )
    quantity = forms.DecimalField(label=_("Jumlah"), min_value=Decimal(0), max_digits=10, decimal_places=2, initial=1)
    note = forms.CharField(label=_("Keterangan"), required=False, max_length=500)
    evidence = forms.FileField(
        label=_("Bukti penyaluran"),
        required=False,
        validators=[FileExtensionValidator(EVIDENCE_EXTENSIONS)],
        help_text=_("Opsional: foto atau PDF, paling besar 5 MB."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields: dict[str, Any] = self.fields  # typed loosely: the concrete field classes differ
        self.user = user
        fields["program"].queryset = (
            services.programs_for_logging(actor=user).filter(is_active=True).select_related("organization")
        )
        fields["program"].label_from_instance = lambda p: f"{p.code} — {p.name} ({p.year})"
        fields["household"].queryset = Household.objects.for_user(user)
        fields["person"].queryset = Person.objects.for_user(user)
        fields["person"].empty_label = _("(seluruh keluarga)")
        self.initial.setdefault("delivered_on", timezone.localdate())
        self.style_fields()

    def clean_evidence(self) -> Any:
        evidence = self.cleaned_data.get("evidence")
        if evidence and evidence.size > EVIDENCE_MAX_BYTES:
            raise forms.ValidationError(_("Berkas bukti terlalu besar (maksimal 5 MB)."))
        return evidence

    def save(self) -> services.LoggedIntervention | None:
        """Call the service; a refusal lands beside its field. None when refused."""
        data = self.cleaned_data
        try:
            return services.intervention_create(
                actor=self.user,
                program=data["program"],
                household=data["household"],
                person=data.get("person"),
                delivered_on=data["delivered_on"],
                value=data.get("value"),
                quantity=data["quantity"],
                status=data["status"],
                note=data.get("note", ""),
                evidence=data.get("evidence"),
            )
        except services.DuplicateInterventionError as exc:
            self.add_error("household", exc.message)
        except DomainError as exc:
            if exc.code == "person_mismatch":
                self.add_error("person", exc.message)
            elif exc.code == "household_out_of_scope":
                self.add_error("household", exc.message)
            else:
                apply_domain_error(self, exc)
        return None

    def selected_household_id(self) -> int | None:
        raw = self.data.get("household") if self.is_bound else self.initial.get("household")
        try:
            return int(raw) if raw else None
        except (TypeError, ValueError):
            return None


class InterventionCancelForm(forms.Form):
    reason = forms.CharField(label=_("Alasan pembatalan"), max_length=300)
