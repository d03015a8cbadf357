"""CSR email reminders, sent daily by Celery beat (``csr.tasks.send_reminders``).

* Before the deadline: each company of a required sector with neither a submitted proposal nor a refusal gets
  one email per step of ``settings.CSR_REMINDER_DAYS`` (H-7, H-3, H-1). On a given day only the most urgent step
  due is sent (a day the beat missed is caught up by the next step, never by a burst of old ones). A company
  whose submission was reopened is reminded again before its new deadline (steps "H-n buka ulang").
* After the realisation date: each partner whose agreed program is overdue gets one email ("terlambat").

Every email is recorded as a ``Reminder``; its unique constraints make the record the claim: the row is
inserted (``get_or_create``) in the same transaction that sends the email, so two runs (or two workers) never
send one step twice, and a failed send rolls the claim back for the next run to retry.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from csr.compliance import STATE_NONE, OverdueRow, cycle_compliance_system
from csr.models import CompanyContact, CsrCycle, CycleReopen, CycleStatus, Reminder, ReminderKind
from tkpk.models import Membership
from tkpk.scoping import Role

logger = logging.getLogger(__name__)

STEP_LATE = "terlambat"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "testserver", "0.0.0.0"}  # noqa: S104 - names, not a bind


@dataclass
class ReminderOutcome:
    sent: int = 0
    already_sent: int = 0
    no_recipients: int = 0
    failed: int = 0
    reminder_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "already_sent": self.already_sent,
            "no_recipients": self.no_recipients,
            "failed": self.failed,
        }


# ------------------------------------------------------------------------------------------------ helpers


def site_url() -> str:
    """The site's absolute address: ``SITE_URL``, else the first public host of ``ALLOWED_HOSTS``."""
    configured = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    if configured:
        return configured
    for host in settings.ALLOWED_HOSTS:
        host = host.lstrip(".")
        if host and host != "*" and host not in LOCAL_HOSTS:
            return f"{'https' if getattr(settings, 'PRODUCTION', False) else 'http'}://{host}"
    return "http://localhost:8000"


def portal_url() -> str:
    """The partner portal's address in emails."""
    for name in ("csr_portal:home", "csr_portal:dashboard", "csr_portal:index"):
        try:
            return site_url() + reverse(name)
        except NoReverseMatch:
            continue
    return site_url() + "/mitra-csr/"


def recipients_by_organization(organization_ids: list[int]) -> dict[int, list[str]]:
    """Email addresses per partner: its contact persons and its active partner users (two queries)."""
    found: dict[int, dict[str, str]] = {pk: {} for pk in organization_ids}
    contacts = CompanyContact.objects.filter(organization_id__in=organization_ids).exclude(email="")
    for org_id, email in contacts.values_list("organization_id", "email"):
        found[org_id].setdefault(email.strip().lower(), email.strip())
    users = (
        Membership.objects.filter(organization_id__in=organization_ids, role=Role.PARTNER, user__is_active=True)
        .exclude(user__email="")
        .values_list("organization_id", "user__email")
    )
    for org_id, email in users:
        found[org_id].setdefault(email.strip().lower(), email.strip())
    return {pk: sorted(emails.values(), key=str.lower) for pk, emails in found.items()}


def due_step(days_left: int, steps: tuple[int, ...]) -> int | None:
    """The most urgent step whose day has come (days_left ≤ step), or None (too early, or deadline past)."""
    if days_left < 0:
        return None
    due = [s for s in steps if days_left <= s]
    return min(due) if due else None


def _send(
    *,
    cycle: CsrCycle,
    organization_id: int,
    kind: str,
    step: str,
    recipients: list[str],
    subject: str,
    body: str,
    now: dt.datetime,
    proposal_id: int | None = None,
    outcome: ReminderOutcome,
) -> None:
    if not recipients:
        outcome.no_recipients += 1
        logger.warning("CSR reminder %s/%s for organization %s: no email address", kind, step, organization_id)
        return
    try:
        with transaction.atomic():
            reminder, created = Reminder.objects.get_or_create(
                cycle=cycle,
                organization_id=organization_id,
                proposal_id=proposal_id,
                kind=kind,
                step=step,
                defaults={"recipients": recipients, "sent_at": now},
            )
            if not created:
                outcome.already_sent += 1
                return
            # Sent inside the transaction that records it: a failed send leaves no record (retried next run).
            EmailMessage(subject=subject, body=body, to=recipients).send(fail_silently=False)
    except Exception:
        outcome.failed += 1
        logger.exception("CSR reminder %s/%s for organization %s could not be sent", kind, step, organization_id)
        return
    outcome.sent += 1
    outcome.reminder_ids.append(reminder.pk)


def _fmt_deadline(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%d-%m-%Y %H:%M")


# ------------------------------------------------------------------------------------------------ messages


def deadline_message(*, cycle: CsrCycle, name: str, deadline: dt.datetime, days_left: int) -> tuple[str, str]:
    if days_left == 0:
        when = _("hari ini")
    else:
        when = _("%(days)d hari lagi") % {"days": days_left}
    subject = _("Pengingat %(cycle)s: batas pengajuan usulan %(when)s") % {"cycle": cycle.name, "when": when}
    body = _(
        "Yth. %(name)s,\n\n"
        "Batas pengajuan usulan program CSR/TJSL pada %(cycle)s adalah %(deadline)s WIB (%(when)s).\n"
        "Sampai saat ini kami belum menerima usulan maupun surat pernyataan tidak berpartisipasi dari "
        "%(name)s.\n\n"
        "Silakan masuk ke portal mitra CSR untuk melihat daftar keluarga sasaran yang dialokasikan kepada Anda "
        "dan mengajukan usulan program:\n%(url)s\n\n"
        "Bila %(name)s tidak dapat berpartisipasi, sampaikan alasannya secara tertulis melalui portal yang "
        "sama (surat kepada Bupati/Wali Kota melalui Bappeda).\n\n"
        "Hormat kami,\nSekretariat TKPK %(region)s\n\n"
        "Surel ini dikirim otomatis; mohon tidak membalas surel ini."
    ) % {
        "name": name,
        "cycle": cycle.name,
        "deadline": _fmt_deadline(deadline),
        "when": when,
        "url": portal_url(),
        "region": cycle.region.name,
    }
    return subject, body


def overdue_message(*, row: OverdueRow) -> tuple[str, str]:
    proposal = row.proposal
    subject = _("Pengingat: realisasi program %(title)s sudah melewati batas") % {"title": proposal.title}
    agreement = getattr(proposal, "agreement", None)
    body = _(
        "Yth. %(name)s,\n\n"
        'Program "%(title)s" (%(cycle)s%(agreement)s) seharusnya sudah terealisasi paling lambat '
        "%(due)s, %(days)d hari yang lalu.\n"
        "Penyaluran yang sudah dilaporkan: %(delivered)d dari %(eligible)d keluarga sasaran terverifikasi layak.\n\n"
        "Mohon laporkan penyaluran yang sudah dilakukan melalui portal mitra CSR, lalu nyatakan program "
        "terlaksana:\n%(url)s\n\n"
        "Hormat kami,\nSekretariat TKPK %(region)s\n\n"
        "Surel ini dikirim otomatis; mohon tidak membalas surel ini."
    ) % {
        "name": proposal.organization.name,
        "title": proposal.title,
        "cycle": proposal.cycle.name,
        "agreement": _(", PKS nomor %(number)s") % {"number": agreement.number} if agreement else "",
        "due": row.due.strftime("%d-%m-%Y"),
        "days": row.days_overdue,
        "delivered": row.delivered_households,
        "eligible": row.eligible_targets,
        "url": portal_url(),
        "region": proposal.cycle.region.name,
    }
    return subject, body


# ------------------------------------------------------------------------------------------------ service


def _reminder_cycles(now: dt.datetime) -> tuple[list[CsrCycle], list[CsrCycle]]:
    """Cycles that may need deadline reminders (open, or with a reopening still running) and cycles whose
    agreed programs may be overdue (any cycle with agreed proposals)."""
    horizon = now + dt.timedelta(days=max(settings.CSR_REMINDER_DAYS, default=0) + 1)
    reopened = CycleReopen.objects.filter(until__gte=now).values("cycle_id")
    deadline_cycles = list(
        CsrCycle.objects.filter(
            Q(status=CycleStatus.OPEN, proposal_deadline__gte=now, proposal_deadline__lte=horizon) | Q(pk__in=reopened)
        )
        .select_related("region")
        .order_by("pk")
    )
    realisation_cycles = list(
        CsrCycle.objects.filter(proposals__status="agreed").distinct().select_related("region").order_by("pk")
    )
    return deadline_cycles, realisation_cycles


def reminders_send(*, now: dt.datetime | None = None) -> ReminderOutcome:
    """Send every reminder due now (idempotent: a step already recorded is never sent again)."""
    now = now or timezone.now()
    steps = tuple(sorted({int(s) for s in settings.CSR_REMINDER_DAYS}))
    outcome = ReminderOutcome()
    deadline_cycles, realisation_cycles = _reminder_cycles(now)
    with translation.override(settings.LANGUAGE_CODE):
        for cycle in deadline_cycles:
            report = cycle_compliance_system(cycle=cycle, now=now)
            due = []
            for row in report.required_rows:
                if row.state != STATE_NONE or now > row.deadline:
                    continue
                days = due_step(row.days_left, steps)
                if days is None or (cycle.status != CycleStatus.OPEN and not row.reopened):
                    continue
                due.append((row, f"H-{days} buka ulang" if row.reopened else f"H-{days}"))
            recipients = recipients_by_organization([row.organization_id for row, _step in due])
            for row, step in due:
                subject, body = deadline_message(
                    cycle=cycle, name=row.name, deadline=row.deadline, days_left=row.days_left
                )
                _send(
                    cycle=cycle,
                    organization_id=row.organization_id,
                    kind=ReminderKind.DEADLINE,
                    step=step,
                    recipients=recipients[row.organization_id],
                    subject=subject,
                    body=body,
                    now=now,
                    outcome=outcome,
                )
        for cycle in realisation_cycles:
            overdue = cycle_compliance_system(cycle=cycle, now=now).overdue
            recipients = recipients_by_organization(sorted({r.proposal.organization_id for r in overdue}))
            for late in overdue:
                to = list(recipients[late.proposal.organization_id])
                contact = late.proposal.contact_email.strip()
                if contact and contact.lower() not in {e.lower() for e in to}:
                    to.append(contact)
                subject, body = overdue_message(row=late)
                _send(
                    cycle=cycle,
                    organization_id=late.proposal.organization_id,
                    proposal_id=late.proposal.pk,
                    kind=ReminderKind.REALISATION,
                    step=STEP_LATE,
                    recipients=to,
                    subject=subject,
                    body=body,
                    now=now,
                    outcome=outcome,
                )
    return outcome
