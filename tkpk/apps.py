from __future__ import annotations

import logging

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("tkpk")


class TkpkConfig(AppConfig):
    name = "tkpk"
    verbose_name = _("Wilayah dan organisasi")

    def ready(self) -> None:
        if settings.CELERY_TASK_ALWAYS_EAGER:
            logger.warning(
                "CELERY_BROKER_URL tidak diatur: tugas latar dijalankan langsung di proses web "
                "(mode tertanam, hanya untuk uji coba)."
            )
