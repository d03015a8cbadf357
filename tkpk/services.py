from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tkpk.models import AccessAction, PersonalDataAccess


def personal_data_access_record(
    *,
    user: Any,
    action: AccessAction,
    object_type: str,
    object_ids: Sequence[int],
    region_code: str = "",
    detail: str = "",
    ip_address: str | None = None,
) -> PersonalDataAccess:
    """Log a view, reveal or export of personal records (UU 27/2022: who, when, which records)."""
    return PersonalDataAccess.objects.create(
        user=user,
        action=action,
        object_type=object_type,
        object_ids=list(object_ids),
        record_count=len(object_ids),
        region_code=region_code,
        detail=detail[:300],
        ip_address=ip_address,
    )
