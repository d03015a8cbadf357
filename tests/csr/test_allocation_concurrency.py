"""Two secretariat sessions allocate the same household for the same need and cycle to two partners at the
same moment (PostgreSQL only): both read "nobody holds it", both insert; the partial unique index lets one
win and the other's insert is skipped and counted as taken, never a second plain holder, never an error."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections

from csr import services
from csr.models import Allocation, AllocationStatus
from programs.models import AssistanceKind
from tests import factories as f
from tkpk.scoping import Role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_two_simultaneous_allocations_of_one_household_give_one_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    secretariat = f.user_with_role(Role.SECRETARIAT)
    companies = [f.OrganizationFactory(company=True), f.OrganizationFactory(company=True)]
    cycle = f.CsrCycleFactory()
    kind = f.reference(AssistanceKind, "pangan")
    household = f.HouseholdFactory(desa=f.desa("3324012001"), desil=1)

    # Both sessions have read the holders (none) before either inserts.
    both_read = threading.Barrier(2, timeout=30)
    real_bulk_create = Allocation.objects.bulk_create

    def bulk_create_after_both_read(rows: list[Allocation], **kw: Any) -> list[Allocation]:
        both_read.wait()
        return real_bulk_create(rows, **kw)

    monkeypatch.setattr(Allocation.objects, "bulk_create", bulk_create_after_both_read)
    results: dict[int, services.AllocationResult] = {}
    errors: list[BaseException] = []

    def allocate(index: int) -> None:
        try:
            results[index] = services.allocations_create(
                actor=secretariat,
                cycle=cycle,
                organization=companies[index],
                assistance_kind=kind,
                household_ids=[household.pk],
            )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=allocate, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted((r.created, r.taken_by_other) for r in results.values()) == [(0, 1), (1, 0)]
    holders = list(
        Allocation.objects.filter(household=household, status=AllocationStatus.ACTIVE).values_list(
            "organization_id", "override_reason"
        )
    )
    winner = next(i for i, r in results.items() if r.created == 1)
    assert holders == [(companies[winner].pk, "")]
