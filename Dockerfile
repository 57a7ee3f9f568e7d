# ERP Continuity: one image for web (gunicorn), worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# System libraries: pg_dump/pg_restore for restore tests and the self-backup job, Pango for PDF
# reports (WeasyPrint), a CJK font so Chinese reports render.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client libpango-1.0-0 libpangoft2-1.0-0 \
       fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so a code change does not reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image and served by the app itself (WhiteNoise), compressed
# and with hashed names. The secret key here only exists for this build step.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret-0123456789abcdefghijklmnop ERPC_ENV_FILE=/nonexistent \
    python manage.py collectstatic --noinput -v 0

# Run as an unprivileged user; only var/ and media/ are writable.
RUN useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin erpc \
    && mkdir -p /app/var /app/media \
    && chown -R erpc:erpc /app/var /app/media \
    && chmod +x scripts/docker-entrypoint.sh
USER erpc

EXPOSE 8000
ENTRYPOINT ["scripts/docker-entrypoint.sh"]
CMD ["gunicorn", "erpcontinuity.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
