"""django-tables2 tables of the program pages (paged without COUNT: see the views)."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.core.paginator import EmptyPage, Page
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_tables2.paginators import LazyPaginator
from django_tables2.rows import BoundRow

from programs.models import Intervention, InterventionStatus
from programs.templatetags.program_tags import rupiah


class IdsFirstPaginator(LazyPaginator):
    """A LazyPaginator (no COUNT) that reads the page's ids first, as a narrow top-N over the filtered rows,
    then only those rows with their joins. Sorting every joined row of a 100k-row program to show 25 is what
    it avoids."""

    def page(self, number: Any) -> Page:
        number = self.validate_number(number or 1)
        queryset = self.object_list.data.data  # the table's BoundRows -> TableQuerysetData -> QuerySet
        bottom = (number - 1) * self.per_page
        ids = list(queryset.select_related(None).values_list("pk", flat=True)[bottom : bottom + self.per_page + 1])
        if len(ids) > self.per_page:
            self._num_pages = number + 1
        elif number != 1 and not ids:
            raise EmptyPage(_("Halaman ini kosong."))
        else:
            self._num_pages = number
            self._final_num_pages = number
        table = self.object_list.table
        rows = [BoundRow(record, table=table) for record in queryset.filter(pk__in=ids[: self.per_page])]
        return Page(rows, number, self)


STATUS_TONES: dict[str, str] = {
    InterventionStatus.DELIVERED: "success",
    InterventionStatus.PLANNED: "info",
    InterventionStatus.CANCELLED: "secondary",
}


class InterventionTable(tables.Table):
    delivered_on = tables.DateColumn(verbose_name=_("Tanggal"), format="d-m-Y")
    household = tables.Column(accessor="household__head_name", verbose_name=_("Kepala keluarga"))
    desa = tables.Column(accessor="household__desa__name", verbose_name=_("Desa/kelurahan"))
    desil = tables.Column(accessor="household__desil", verbose_name=_("Desil"))
    value = tables.Column(verbose_name=_("Nilai"), attrs={"td": {"class": "text-end text-nowrap"}})
    status = tables.Column(verbose_name=_("Status"))
    entered_by = tables.Column(verbose_name=_("Dicatat oleh"), default="—")
    actions = tables.TemplateColumn(
        template_name="programs/_intervention_actions.html", verbose_name="", orderable=False
    )

    class Meta:
        model = Intervention
        fields = ("delivered_on", "household", "desa", "desil", "value", "status", "entered_by")
        sequence = ("delivered_on", "household", "desa", "desil", "value", "status", "entered_by", "actions")
        orderable = False
        attrs = {"class": "table table-sm table-hover align-middle", "data-testid": "interventions"}
        row_attrs = {"data-intervention": lambda record: record.pk}
        empty_text = _("Belum ada penyaluran yang cocok.")

    def __init__(self, *args: Any, can_cancel: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not can_cancel:
            self.columns.hide("actions")

    def render_value(self, value: Any) -> str:
        return rupiah(value)

    def render_entered_by(self, value: Any) -> str:
        return value.get_full_name() or value.username

    def render_status(self, record: Intervention) -> str:
        badge = format_html(
            '<span class="badge text-bg-{}">{}</span>',
            STATUS_TONES.get(record.status, "light"),
            record.get_status_display(),
        )
        if record.status == InterventionStatus.CANCELLED and record.cancel_reason:
            return format_html('{} <span class="small text-muted">{}</span>', badge, record.cancel_reason)
        if record.evidence:
            return format_html('{} <i class="bi bi-paperclip" title="{}"></i>', badge, _("Ada bukti penyaluran"))
        return badge
