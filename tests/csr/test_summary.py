"""The Musrenbang CSR summary: numbers equal independent counts, the .xlsx holds the page's values, the PDF
renders, and only the secretariat and leadership of the cycle's region read it (aggregates, no names)."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from csr import services, summary
from csr.models import Proposal, ProposalTarget, VerificationResult
from programs.models import AssistanceKind, Intervention, InterventionStatus, ProgramCluster, ProgramStrategy
from reports.periodic import fmt
from tests import factories as f
from tests.csr import compliance_world as w
from tkpk.models import CompanySector, OrganizationKind, Region
from tkpk.scoping import Role

pytestmark = pytest.mark.django_db

COUNTED = ("submitted", "returned", "verified", "agreed", "implemented", "reported")
NAMES = ("PT Sawit Sejahtera", "PT Tambang Makmur", "BAZNAS Kendal Uji", "PT Draf Saja", "PT Tarik Usulan")


@pytest.fixture
def secretariat() -> Any:
    return f.user_with_role(Role.SECRETARIAT)


@pytest.fixture
def world(secretariat: Any) -> dict[str, Any]:
    return build_world(secretariat)


def build_world(secretariat: Any) -> dict[str, Any]:
    """Kendal's cycle: an agreed plantation program (4 targets in Plantungan, 1 moved away, 2 delivered), a
    submitted mining proposal (2 targets in another kecamatan), a submitted BAZNAS proposal (1 target), a
    draft and a withdrawn proposal (not counted), and another region's cycle (not seen)."""
    cycle = w.open_cycle()
    other_desa = (
        Region.objects.filter(level=4, code__startswith="3324").exclude(code__startswith="332401").order_by("code")
    ).first()
    assert other_desa is not None
    plantation = w.company(CompanySector.PLANTATION, name=NAMES[0])
    mining = w.company(CompanySector.MINING, name=NAMES[1])
    baznas = w.company(kind=OrganizationKind.BAZNAS, name=NAMES[2])
    drafting = w.company(CompanySector.PLANTATION, name=NAMES[3])
    withdrawing = w.company(CompanySector.PLANTATION, name=NAMES[4])
    agreed = w.agreed_proposal(
        secretariat=secretariat,
        partner=plantation,
        cycle=cycle,
        households=f.HouseholdFactory.create_batch(4),
        ineligible=1,
        delivered=2,
        number="PKS/RINGKAS/1",
        budget=100_000_000,
    )
    submitted = w.submitted_proposal(
        secretariat=secretariat,
        partner=mining,
        cycle=cycle,
        households=f.HouseholdFactory.create_batch(2, desa=other_desa),
        kind="pendidikan",
        cluster="klaster-2",
        strategy="tingkatkan-pendapatan",
        budget=30_000_000,
    )
    by_baznas = w.submitted_proposal(
        secretariat=secretariat, partner=baznas, cycle=cycle, households=[f.HouseholdFactory()], budget=10_000_000
    )
    f.ProposalFactory(organization=drafting.test_organization, cycle=cycle, budget=Decimal(999_000_000))
    withdrawn = w.submitted_proposal(
        secretariat=secretariat,
        partner=withdrawing,
        cycle=cycle,
        households=[f.HouseholdFactory()],
        budget=777_000_000,
    )
    services.proposal_transition(actor=withdrawing, proposal=withdrawn, action="withdraw", note="Batal")
    kukar = f.CsrCycleFactory(region=f.region(f.KUTAI_KARTANEGARA))
    f.ProposalFactory(
        organization=f.OrganizationFactory(company=True, region=f.region(f.KUTAI_KARTANEGARA)),
        cycle=kukar,
        status="submitted",
        budget=Decimal(555_000_000),
    )
    return {
        "cycle": cycle,
        "agreed": agreed,
        "submitted": submitted,
        "baznas": by_baznas,
        "other_kecamatan": other_desa.code[:6],
    }


def independent(cycle: Any, **proposal_filter: Any) -> tuple[int, Decimal, int, int]:
    """Proposals, budget, targeted and delivered households counted straight from the tables."""
    proposals = Proposal.objects.filter(cycle=cycle, status__in=COUNTED, **proposal_filter)
    targeted = ProposalTarget.objects.filter(
        proposal__in=proposals, verification__in=(VerificationResult.PENDING, VerificationResult.ELIGIBLE)
    ).count()
    delivered = sum(
        Intervention.objects.filter(program_id=p.program_id, status=InterventionStatus.DELIVERED)
        .values("household_id")
        .distinct()
        .count()
        for p in proposals
        if p.program_id
    )
    return proposals.count(), proposals.aggregate(v=Sum("budget"))["v"] or Decimal(0), targeted, delivered


def rows_by_label(table: Any) -> dict[str, list[Any]]:
    return {str(r[0]): r for r in table.rows}


def test_numbers_equal_independent_counts(secretariat: Any, world: dict[str, Any]) -> None:
    cycle = world["cycle"]
    data = summary.csr_summary(user=secretariat, cycle=cycle)
    n, budget, targeted, delivered = independent(cycle)
    assert (n, budget, targeted, delivered) == (3, Decimal(140_000_000), 6, 2)  # the world as described
    assert data.totals["proposals"] == n and data.totals["budget"] == budget
    assert (data.totals["targeted"], data.totals["delivered"], data.totals["partners"]) == (targeted, delivered, 3)
    assert data.totals["agreed"] == 1

    sector = rows_by_label(data.table("sector"))
    for label, filters in (
        ("Perkebunan", {"organization__sector": CompanySector.PLANTATION}),
        ("Pertambangan", {"organization__sector": CompanySector.MINING}),
        ("BAZNAS", {"organization__kind": OrganizationKind.BAZNAS}),
    ):
        count, value, aimed, reached = independent(cycle, **filters)
        row = sector[label]
        assert (row[1], row[2], row[3], row[4], row[5]) == (count, 1, value, aimed, reached), label
    assert sector["Perkebunan"][6] == Decimal("66.67")
    assert data.table("sector").total == ["Jumlah", 3, 3, budget, targeted, delivered, Decimal("33.33")]

    kind = rows_by_label(data.table("kind"))
    count, value, aimed, reached = independent(cycle, assistance_kind__code="pangan")
    assert (
        kind[AssistanceKind.objects.get(code="pangan").name][1:6]
        == [count, 2, value, aimed, reached]
        == [2, 2, Decimal(110_000_000), 4, 2]
    )
    cluster = rows_by_label(data.table("cluster"))
    assert cluster[ProgramCluster.objects.get(code="klaster-2").name][1:6] == [1, 1, Decimal(30_000_000), 2, 0]
    strategy = {k: v[1] for k, v in rows_by_label(data.table("strategy")).items()}
    names = dict(ProgramStrategy.objects.values_list("code", "name"))
    assert strategy == {names["kurangi-beban"]: 2, names["tingkatkan-pendapatan"]: 1}
    status = rows_by_label(data.table("status"))
    assert {k: v[1] for k, v in status.items()} == {"Disepakati (PKS)": 1, "Diajukan": 2}

    kecamatan = {r[0].replace(".", ""): r for r in data.table("kecamatan").rows}
    other = world["other_kecamatan"]
    plantungan = ProposalTarget.objects.filter(
        proposal__cycle=cycle,
        proposal__status__in=COUNTED,
        household__kecamatan_code="332401",
        verification__in=(VerificationResult.PENDING, VerificationResult.ELIGIBLE),
    ).count()
    assert kecamatan["332401"][1] == "Plantungan"
    assert kecamatan["332401"][2:5] == [2, plantungan, 2] == [2, 4, 2]
    assert kecamatan[other][2:5] == [1, 2, 0]
    assert sum(r[3] for r in data.table("kecamatan").rows) == targeted


def test_leadership_counts_the_same_as_the_secretariat(secretariat: Any, world: dict[str, Any]) -> None:
    leader = f.user_with_role(Role.LEADERSHIP)
    mine = summary.csr_summary(user=secretariat, cycle=world["cycle"])
    theirs = summary.csr_summary(user=leader, cycle=world["cycle"])
    assert [t.rows for t in theirs.tables] == [t.rows for t in mine.tables]
    assert theirs.totals == mine.totals


def test_page_and_xlsx_hold_the_same_values(client: Client, secretariat: Any, world: dict[str, Any]) -> None:
    client.force_login(secretariat)
    cycle = world["cycle"]
    response = client.get(reverse("csr:summary") + f"?cycle={cycle.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    page = response.context["s"]
    assert html.count('data-testid="summary-table"') == 6
    for name in NAMES:
        assert name not in html
    for table in page.tables:
        assert html_rows(html, table.key) == [[value for value, _numeric in row] for row in table.display_rows]
    assert reverse("csr:compliance", args=[cycle.pk]) in html
    assert 'id="csr-summary-data"' in html and "vendor/chartjs/chart.umd.js" in html
    assert response.context["chart_data"]["sector_value"][0] == ["Perkebunan", 100_000_000]

    download = client.get(reverse("csr:summary-download", args=["xlsx"]) + f"?cycle={cycle.pk}")
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith('.xlsx"')
    workbook = load_workbook(io.BytesIO(download.content), read_only=True)
    assert workbook.sheetnames == ["Sampul", *[t.sheet for t in page.tables]]
    for table in page.tables:
        values = [list(r) for r in workbook[table.sheet].iter_rows(values_only=True)]
        assert [str(v) for v in values[0]] == [str(h) for h in table.headers]
        expected = [["" if v is None else v for v in row] for row in table.rows]
        got = [[_plain(v) for v in row] for row in values[1 : 1 + len(table.rows)]]
        assert got == [[_plain(v) for v in row] for row in expected], table.key
        if table.total:
            assert [_plain(v) for v in values[1 + len(table.rows)]] == [
                _plain("" if v is None else v) for v in table.total
            ]
    for name in NAMES:
        assert all(name not in str(c) for s in workbook.worksheets for r in s.iter_rows(values_only=True) for c in r)


def html_rows(html: str, key: str) -> list[list[str]]:
    """The cell texts of the page's table ``key``."""
    table = re.search(rf'data-table="{key}">(.*?)</table>', html, re.S)
    assert table is not None, key
    body = table.group(1).split("<tbody>", 1)[1]
    return [
        [unescape(cell.strip()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _plain(value: Any) -> Any:
    """xlsx cells come back as int/float/str (an empty string as None); compare numbers as Decimal."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value)).normalize()
    return str(value)


def test_pdf_renders_with_pages(client: Client, secretariat: Any, world: dict[str, Any], tmp_path: Any) -> None:
    client.force_login(secretariat)
    response = client.get(reverse("csr:summary-download", args=["pdf"]) + f"?cycle={world['cycle'].pk}")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "ringkasan.pdf"
    path.write_bytes(response.content)
    reader = PdfReader(path)
    assert len(reader.pages) >= 2
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    assert world["cycle"].name in text
    assert "Perkebunan" in text and "Pertambangan" in text and "Plantungan" in text
    assert fmt(Decimal(140_000_000)) in text  # the total value
    assert "Halaman 1 /" in text
    for name in NAMES:
        assert name not in text


def test_leadership_reads_page_and_downloads(client: Client, world: dict[str, Any]) -> None:
    client.force_login(f.user_with_role(Role.LEADERSHIP))
    page = client.get(reverse("csr:summary") + f"?cycle={world['cycle'].pk}")
    assert page.status_code == 200
    assert page.context["s"].totals["proposals"] == 3
    assert reverse("csr:compliance", args=[world["cycle"].pk]) in page.content.decode()
    assert client.get(reverse("csr:summary-download", args=["xlsx"])).status_code == 200


@pytest.mark.parametrize("role", [Role.PARTNER, Role.OPD_OFFICER])
def test_partner_and_agency_are_refused(client: Client, world: dict[str, Any], role: str) -> None:
    client.force_login(f.user_with_role(role))
    assert client.get(reverse("csr:summary")).status_code == 403
    assert client.get(reverse("csr:summary-download", args=["xlsx"])).status_code == 403
    assert client.get(reverse("csr:summary-download", args=["pdf"])).status_code == 403


def test_another_regions_cycle_is_not_found(client: Client, world: dict[str, Any]) -> None:
    client.force_login(f.user_with_role(Role.SECRETARIAT, f.KUTAI_KARTANEGARA))
    assert client.get(reverse("csr:summary") + f"?cycle={world['cycle'].pk}").status_code == 404
    response = client.get(reverse("csr:summary"))  # its own cycle: the other region's proposals only
    assert response.status_code == 200 and response.context["s"].totals["budget"] == Decimal(555_000_000)
    assert client.get(reverse("csr:summary-download", args=["doc"])).status_code == 404


def test_empty_cycle_renders(client: Client, secretariat: Any) -> None:
    cycle = w.open_cycle()
    client.force_login(secretariat)
    response = client.get(reverse("csr:summary") + f"?cycle={cycle.pk}")
    assert response.status_code == 200 and 'data-testid="summary-empty"' in response.content.decode()
    assert client.get(reverse("csr:summary-download", args=["pdf"]) + f"?cycle={cycle.pk}").status_code == 200


def test_summary_reads_a_fixed_number_of_queries(
    secretariat: Any, world: dict[str, Any], django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(6):
        summary.csr_summary(user=secretariat, cycle=world["cycle"])
