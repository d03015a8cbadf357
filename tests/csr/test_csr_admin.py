"""CSR admin: agreements and refusal letters are read-only and their files link only to the scoped views."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from csr.models import Agreement, ProposalStatus, Refusal
from tests import factories as f
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db


def test_agreement_and_refusal_files_link_the_scoped_views_only() -> None:
    secretariat = f.user_with_role(Role.SECRETARIAT)
    proposal = f.ProposalFactory(status=ProposalStatus.AGREED)
    agreement = Agreement(
        proposal=proposal,
        number="PKS/ADMIN/1",
        signed_on=proposal.starts_on,
        government_signatory="Kepala Bappeda",
        company_signatory="Direktur",
    )
    agreement.pdf.save("pks-admin.pdf", ContentFile(b"%PDF-1.4"), save=True)
    refusal = Refusal(
        organization=proposal.organization,
        cycle=proposal.cycle,
        reason="Tidak ada anggaran tahun ini",
        signatory_name="Direktur",
        signatory_position="Direktur",
        letter_number="SURAT/ADMIN/1",
    )
    refusal.letter_pdf.save("surat-admin.pdf", ContentFile(b"%PDF-1.4"), save=True)
    client = Client()
    client.force_login(secretariat)

    for obj, url_name, pk in ((agreement, "csr:agreement-pdf", proposal.pk), (refusal, "csr:refusal-pdf", refusal.pk)):
        label = f"{obj._meta.app_label}_{obj._meta.model_name}"
        for page in (reverse(f"admin:{label}_changelist"), reverse(f"admin:{label}_change", args=[obj.pk])):
            response = client.get(page)
            assert response.status_code == 200
            body = response.content.decode()
            assert f'href="{reverse(url_name, args=[pk])}"' in body
            assert "/media/" not in body and "csr/agreements/" not in body and "csr/refusals/" not in body
        change = client.get(reverse(f"admin:{label}_change", args=[obj.pk]))
        assert change.context["has_change_permission"] is False
