# Fieldline application image: gunicorn serving the Django project, also used for the
# Celery worker and scheduler and the one-shot migrate/createbucket services in docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STATIC_ROOT=/app/staticfiles \
    PYTHONPATH=/app/backend:/app

WORKDIR /app

# Dependencies first, so code changes do not invalidate this layer: the runtime set only
# (requirements-dev.lock adds the test and development tools).
COPY requirements.lock ./
RUN pip install --requirement requirements.lock

COPY . .

# Static files are collected into the image (admin, API docs); the TLS-terminating
# proxy serves /static/ from them. Collecting needs no secrets and no database, so it
# runs with the demo settings.
RUN DEBUG=true python backend/manage.py collectstatic --noinput --verbosity 0

RUN groupadd --system --gid 10001 fieldline \
    && useradd --system --uid 10001 --gid fieldline --create-home --home-dir /home/fieldline fieldline
USER fieldline

EXPOSE 8000

# Worker count comes from WEB_CONCURRENCY (read by gunicorn itself).
CMD ["gunicorn", "fieldline.wsgi:application", "--chdir", "backend", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
