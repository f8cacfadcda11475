# The application image: web (gunicorn + WhiteNoise), Celery worker and beat all run from it.
# Built and run by docker-compose.yml; see the README's "Deploy" section.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    QIANTANG_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles

RUN useradd --system --create-home --uid 10001 --user-group qiantang
WORKDIR /app

# Locked runtime dependencies first, so code changes reuse this layer.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .
# Editable, as in development: settings find templates/, static/ and locale/ next to the code,
# and `warnings/` is imported as `qiantang_warnings` through setuptools package-dir (README).
# collectstatic writes hashed, compressed files that WhiteNoise serves; it needs no database.
RUN pip install --no-deps -e . \
    && pip check \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0 \
    && mkdir -p /app/var \
    && chown -R qiantang:qiantang /app/var

USER qiantang
EXPOSE 8000
# gunicorn reads WEB_CONCURRENCY (workers) and FORWARDED_ALLOW_IPS (trusted proxies) itself.
CMD ["gunicorn", "qiantang.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
