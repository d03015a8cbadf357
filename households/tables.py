from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from households.models import Household


class HouseholdTable(tables.Table):
    head_name = tables.LinkColumn("households:detail", args=[tables.A("pk")], verbose_name=_("Kepala keluarga"))
    no_kk = tables.Column(accessor="no_kk_masked", verbose_name=_("Nomor KK"), orderable=False)
    desa = tables.Column(accessor="desa__name", verbose_name=_("Desa/kelurahan"))
    kecamatan = tables.Column(accessor="desa__parent__name", verbose_name=_("Kecamatan"))
    address = tables.Column(verbose_name=_("Alamat"))
    desil = tables.Column(verbose_name=_("Desil"))
    status = tables.Column(verbose_name=_("Status"))

    class Meta:
        model = Household
        fields = ("head_name", "no_kk", "address", "desa", "kecamatan", "desil", "status")
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle"}
        empty_text = _("Tidak ada keluarga yang cocok dalam wilayah Anda.")
