"""CSR email reminders through Django's email backend (locmem here; the worker's own backend in the Celery
test): the right steps, the right recipients, never twice, and the beat entry that runs them."""

from __future__ import annotations

import datetime as dt
import time
from io import StringIO
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from csr import reminders, services
from csr.models import Reminder, ReminderKind
from csr.tasks import send_reminders
from tests import factories as f
from tests.conftest import CeleryWorker
from tests.csr import compliance_world as w
from tkpk.models import CompanySector
from tkpk.scoping import Role

NOW = timezone.make_aware(dt.datetime(2026, 3, 2, 8, 0))  # 08:00 WIB


@pytest.fixture
def secretariat(db: None) -> Any:
    return f.user_with_role(Role.SECRETARIAT)


@pytest.fixture
def world(secretariat: Any, settings: Any) -> dict[str, Any]:
    """A cycle whose deadline is 7 days after NOW: a silent plantation company (a contact, a second contact
    without email, a user, an inactive user), one that submitted, one that refused, a bank (not required)."""
    settings.SITE_URL = "https://tkpk.kendalkab.example"
    cycle = w.open_cycle(proposal_deadline=timezone.now() + dt.timedelta(days=20))
    silent = w.company(CompanySector.PLANTATION, name="PT Sawit Diam")
    w.contact(silent.test_organization, "Humas@Sawit.example", name="Humas", is_primary=True)
    w.contact(silent.test_organization, "", name="Tanpa surel")
    w.contact(silent.test_organization, "pengguna.sama@sawit.example", name="Sama dengan pengguna")
    silent.email = "Pengguna.Sama@sawit.example"
    silent.save(update_fields=["email"])
    inactive = f.user_with_role(Role.PARTNER, organization=silent.test_organization, email="keluar@sawit.example")
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    submitted = w.company(CompanySector.MINING, name="PT Tambang Mengusulkan")
    w.contact(submitted.test_organization, "tambang@tambang.example")
    w.submitted_proposal(
        secretariat=secretariat, partner=submitted, cycle=cycle, households=f.HouseholdFactory.create_batch(1)
    )
    refusing = w.company(CompanySector.PLANTATION, name="PT Sawit Menolak")
    w.refuse(partner=refusing, cycle=cycle, reason="Dana TJSL tahun ini sudah habis untuk bencana banjir.")
    bank = w.company(CompanySector.BANKING, name="Bank Uji")
    w.contact(bank.test_organization, "bank@bank.example")
    w.move_deadline(cycle, NOW + dt.timedelta(days=7))
    mail.outbox.clear()
    return {"cycle": cycle, "silent": silent, "submitted": submitted, "refusing": refusing, "bank": bank}


def deadline_reminders() -> list[tuple[int, str]]:
    return list(
        Reminder.objects.filter(kind=ReminderKind.DEADLINE)
        .order_by("sent_at", "pk")
        .values_list("organization_id", "step")
    )


def test_h7_is_sent_once_to_the_silent_company_only(world: dict[str, Any]) -> None:
    outcome = reminders.reminders_send(now=NOW)
    assert outcome.as_dict() == {"sent": 1, "already_sent": 0, "no_recipients": 0, "failed": 0}
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [
        "Humas@Sawit.example",
        "pengguna.sama@sawit.example",
    ]  # one address once, not the inactive user
    assert world["cycle"].name in message.subject and "7 hari lagi" in message.subject
    assert "09-03-2026 08:00 WIB" in message.body
    assert "PT Sawit Diam" in message.body
    assert "https://tkpk.kendalkab.example/mitra-csr/" in message.body
    assert deadline_reminders() == [(world["silent"].test_organization.pk, "H-7")]
    reminder = Reminder.objects.get()
    assert reminder.recipients == message.to and reminder.sent_at == NOW

    again = reminders.reminders_send(now=NOW + dt.timedelta(hours=3))
    assert again.as_dict() == {"sent": 0, "already_sent": 1, "no_recipients": 0, "failed": 0}
    assert len(mail.outbox) == 1 and Reminder.objects.count() == 1


def test_steps_follow_the_days_left(world: dict[str, Any]) -> None:
    silent = world["silent"].test_organization.pk
    sent = []
    for day in range(0, 10):
        before = len(mail.outbox)
        reminders.reminders_send(now=NOW + dt.timedelta(days=day))
        sent += [(day, m.subject) for m in mail.outbox[before:]]
    assert [day for day, _subject in sent] == [0, 4, 6]
    assert deadline_reminders() == [(silent, "H-7"), (silent, "H-3"), (silent, "H-1")]
    assert "hari ini" not in sent[-1][1] and "1 hari lagi" in sent[-1][1]


def test_a_missed_day_sends_the_most_urgent_step_only(world: dict[str, Any]) -> None:
    reminders.reminders_send(now=NOW + dt.timedelta(days=5))  # 2 days left: H-3, not H-7
    assert deadline_reminders() == [(world["silent"].test_organization.pk, "H-3")]
    reminders.reminders_send(now=NOW + dt.timedelta(days=7, hours=-1))  # the deadline day: H-1 ("hari ini")
    assert [s for _o, s in deadline_reminders()] == ["H-3", "H-1"]
    assert "hari ini" in mail.outbox[-1].subject
    reminders.reminders_send(now=NOW + dt.timedelta(days=7, hours=1))  # past the deadline: nothing more
    assert len(mail.outbox) == 2


def test_a_company_that_submits_gets_no_further_reminder(world: dict[str, Any], secretariat: Any) -> None:
    reminders.reminders_send(now=NOW)
    assert len(mail.outbox) == 1
    w.move_deadline(world["cycle"], timezone.now() + dt.timedelta(days=1))  # submit on time (in real time)
    w.submitted_proposal(
        secretariat=secretariat,
        partner=world["silent"],
        cycle=world["cycle"],
        households=f.HouseholdFactory.create_batch(1),
    )
    w.move_deadline(world["cycle"], NOW + dt.timedelta(days=7))
    reminders.reminders_send(now=NOW + dt.timedelta(days=4))
    assert len(mail.outbox) == 1
    recipients = {address for m in mail.outbox for address in m.to}
    assert "tambang@tambang.example" not in recipients and "bank@bank.example" not in recipients


def test_reopened_company_is_reminded_before_its_new_deadline(world: dict[str, Any], secretariat: Any) -> None:
    cycle = w.move_deadline(world["cycle"], timezone.now() - dt.timedelta(days=3))
    services.cycle_reopen(
        actor=secretariat,
        cycle=cycle,
        organization=world["silent"].test_organization,
        until=timezone.now() + dt.timedelta(days=2),
        note="Perusahaan baru menerima surat",
    )
    outcome = reminders.reminders_send()
    assert outcome.sent == 1
    assert deadline_reminders() == [(world["silent"].test_organization.pk, "H-3 buka ulang")]
    assert "2 hari lagi" in mail.outbox[0].subject


def test_a_company_without_any_address_is_counted_and_retried(world: dict[str, Any]) -> None:
    organization = world["silent"].test_organization
    organization.contacts.all().delete()
    type(world["silent"]).objects.filter(memberships__organization=organization).update(email="")
    outcome = reminders.reminders_send(now=NOW)
    assert (outcome.sent, outcome.no_recipients) == (0, 1)
    assert not Reminder.objects.exists()
    w.contact(organization, "baru@sawit.example")
    assert reminders.reminders_send(now=NOW + dt.timedelta(days=1)).sent == 1
    assert mail.outbox[-1].to == ["baru@sawit.example"]


def test_a_failed_send_is_not_recorded_and_is_retried(world: dict[str, Any], settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2  # nothing listens
    outcome = reminders.reminders_send(now=NOW)
    assert (outcome.sent, outcome.failed) == (0, 1)
    assert not Reminder.objects.exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert reminders.reminders_send(now=NOW).sent == 1
    assert deadline_reminders() == [(world["silent"].test_organization.pk, "H-7")]


def test_overdue_realisation_is_reminded_once(secretariat: Any, settings: Any) -> None:
    cycle = w.open_cycle()
    partner = w.company(CompanySector.PLANTATION, name="PT Sawit Lambat")
    w.contact(partner.test_organization, "csr@lambat.example")
    proposal = w.agreed_proposal(
        secretariat=secretariat,
        partner=partner,
        cycle=cycle,
        households=f.HouseholdFactory.create_batch(3),
        delivered=1,
        number="PKS/UJI/LAMBAT",
    )
    type(proposal).objects.filter(pk=proposal.pk).update(contact_email="pj.program@lambat.example")
    mail.outbox.clear()
    assert reminders.reminders_send().sent == 0  # not late yet
    later = timezone.now() + dt.timedelta(days=(proposal.ends_on - timezone.localdate()).days + 2)
    outcome = reminders.reminders_send(now=later)
    assert outcome.sent == 1
    message = mail.outbox[0]
    assert sorted(message.to) == sorted(["csr@lambat.example", partner.email, "pj.program@lambat.example"])
    assert "PKS/UJI/LAMBAT" in message.body and "1 dari 3 keluarga" in message.body
    assert "2 hari yang lalu" in message.body
    reminder = Reminder.objects.get()
    assert (reminder.kind, reminder.step, reminder.proposal_id) == (ReminderKind.REALISATION, "terlambat", proposal.pk)
    assert reminders.reminders_send(now=later + dt.timedelta(days=1)).sent == 0
    assert len(mail.outbox) == 1


def test_site_url_falls_back_to_allowed_hosts(settings: Any) -> None:
    settings.SITE_URL = ""
    settings.ALLOWED_HOSTS = ["localhost", ".tkpk.kendalkab.go.id"]
    settings.PRODUCTION = True
    assert reminders.site_url() == "https://tkpk.kendalkab.go.id"
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    assert reminders.site_url() == "http://localhost:8000"


def test_due_step() -> None:
    steps = (1, 3, 7)
    assert [reminders.due_step(d, steps) for d in (9, 8, 7, 6, 4, 3, 2, 1, 0, -1)] == [
        None,
        None,
        7,
        7,
        7,
        3,
        3,
        1,
        1,
        None,
    ]


def test_setup_schedules_installs_the_daily_reminder(db: None) -> None:
    out = StringIO()
    call_command("setup_schedules", stdout=out)
    task = PeriodicTask.objects.get(name="csr-reminders-daily")
    assert task.task == "csr.tasks.send_reminders" == send_reminders.name
    assert task.crontab is not None and (task.crontab.hour, task.crontab.minute) == ("7", "0")
    call_command("setup_schedules", stdout=out)
    assert PeriodicTask.objects.filter(name="csr-reminders-daily").count() == 1


@pytest.mark.postgres
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_worker_sends_the_reminders_through_its_email_backend(celery_worker_process: CeleryWorker) -> None:
    w.open_cycle(proposal_deadline=timezone.now() + dt.timedelta(days=3))
    silent = w.company(CompanySector.PLANTATION, name="PT Sawit Pekerja")
    w.contact(silent.test_organization, "direksi@pekerja.example")

    send_reminders.delay()

    deadline = time.monotonic() + 60
    while not Reminder.objects.filter(organization=silent.test_organization).exists():
        assert time.monotonic() < deadline, f"no reminder recorded; worker log:\n{celery_worker_process.log_tail()}"
        time.sleep(0.3)
    reminder = Reminder.objects.get(organization=silent.test_organization)
    assert reminder.step == "H-3"
    assert sorted(reminder.recipients) == sorted(["direksi@pekerja.example", silent.email])
    # The worker runs the embedded default's console backend: the message is in its log.
    deadline = time.monotonic() + 10
    while "direksi@pekerja.example" not in celery_worker_process.log_tail(400):
        assert time.monotonic() < deadline, celery_worker_process.log_tail()
        time.sleep(0.3)
    assert "batas pengajuan usulan 3 hari lagi" in celery_worker_process.log_tail(400)
    send_reminders.delay()
    time.sleep(2)
    assert Reminder.objects.filter(organization=silent.test_organization).count() == 1
