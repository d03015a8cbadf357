"""Generated CSR documents (WeasyPrint): the collaboration agreement with its target list (NIK masked:
the document goes to the partner) and the letter of a partner that will not take part."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string

from csr.models import Agreement, ProposalTarget, Refusal, VerificationResult
from households.choices import Relationship
from households.models import Person
from tkpk.identifiers import mask_identifier
from tkpk.models import Region


def _render(template: str, context: dict[str, Any]) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context)
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    return pdf


def _government(region: Region) -> str:
    """Who the pemda is: "Kabupaten Kendal" / "Kota Semarang" / "Provinsi Jawa Tengah"."""
    return region.name


def _place_name(region: Region) -> str:
    """ "Kabupaten Kendal" → "Kendal", "Kota Semarang" → "Semarang": the Bupati / Wali Kota is addressed by it."""
    name = region.name.strip()
    for prefix in ("Kabupaten ", "Kab. ", "Kota "):
        if name.lower().startswith(prefix.lower()):
            return name[len(prefix) :].strip()
    return name


def agreement_targets(agreement: Agreement) -> list[dict[str, Any]]:
    """The eligible targets of the agreement's proposal, in desa and name order, NIK masked."""
    head_nik = Person.objects.filter(household=OuterRef("household_id"), relationship=Relationship.HEAD)
    rows = (
        ProposalTarget.objects.filter(proposal_id=agreement.proposal_id, verification=VerificationResult.ELIGIBLE)
        .exclude(household__isnull=True)
        .annotate(head_nik=Subquery(head_nik.order_by("id").values("nik")[:1]))
        .select_related("household", "household__desa")
        .order_by("household__desa__name", "household__head_name", "household_id")
    )
    result = []
    for index, row in enumerate(rows, start=1):
        household = row.household
        assert household is not None
        parts = (
            household.address,
            f"RT {household.rt}" if household.rt else "",
            f"RW {household.rw}" if household.rw else "",
        )
        result.append(
            {
                "number": index,
                "name": household.head_name,
                "nik": mask_identifier(getattr(row, "head_nik", None)),
                "address": " ".join(part for part in parts if part),
                "desa": household.desa.name,
                "desil": household.desil or "",
            }
        )
    return result


def agreement_pdf(agreement: Agreement) -> bytes:
    proposal = agreement.proposal
    cycle = proposal.cycle
    return _render(
        "csr/pdf/agreement.html",
        {
            "agreement": agreement,
            "proposal": proposal,
            "cycle": cycle,
            "organization": proposal.organization,
            "government": _government(cycle.region),
            "targets": agreement_targets(agreement),
        },
    )


def refusal_letter_pdf(refusal: Refusal) -> bytes:
    cycle = refusal.cycle
    return _render(
        "csr/pdf/refusal.html",
        {
            "refusal": refusal,
            "cycle": cycle,
            "organization": refusal.organization,
            "government": _government(cycle.region),
            "place_name": _place_name(cycle.region),
            "is_city": cycle.region_id[2:3] in "789" and len(cycle.region_id) == 4,
            "contacts": list(refusal.organization.contacts.all()[:3]),
        },
    )
