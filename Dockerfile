# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=tkpk.settings

# gettext: compilemessages; pango/harfbuzz + DejaVu fonts: WeasyPrint (periodic report PDF). Healthchecks use
# python, no curl needed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system tkpk && useradd --system --gid tkpk --home-dir /app --shell /usr/sbin/nologin tkpk
WORKDIR /app

COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY --chown=tkpk:tkpk . .

# Static files and translations are built into the image (production storage: compressed by WhiteNoise).
RUN TKPK_PRODUCTION=1 DEBUG=0 SECRET_KEY=build-only-not-a-secret-0123456789abcdefghijklmnop \
        python manage.py collectstatic --noinput -v0 \
    && if find . -type d -name locale -not -path "./.venv/*" | grep -q .; then \
        TKPK_PRODUCTION=1 DEBUG=0 SECRET_KEY=build-only-not-a-secret-0123456789abcdefghijklmnop \
        python manage.py compilemessages; fi \
    && mkdir -p /app/media && chown tkpk:tkpk /app /app/media

USER tkpk
EXPOSE 8000

CMD ["gunicorn", "tkpk.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "120", "--access-logfile", "-"]
