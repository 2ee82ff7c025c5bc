# Pianke production image: the ASGI app (uvicorn), and with another command the Celery
# worker and beat. Configuration comes from the environment (see README.md); nothing
# secret is baked in. Build: docker build -t pianke .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    MEDIA_ROOT=/var/lib/pianke/media

WORKDIR /app

# Dependencies first, so code changes do not reinstall them: the locked runtime versions
# (requirements/base.txt, hash-checked), never the dev extras. The project installs no
# packages of its own (`packages = []`) and, with --no-deps, resolves nothing more.
COPY pyproject.toml README.md ./
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes -r requirements/base.txt \
    && pip install --no-deps .

COPY . .

# Compiled translations, the project's and each app's (as `make messages` does). Static
# files (admin, Swagger UI from drf-spectacular-sidecar) hashed and compressed for
# WhiteNoise. The settings need these variables to import; the values exist for this
# step only and are not kept in the image.
RUN for po in locale/*/LC_MESSAGES/*.po */locale/*/LC_MESSAGES/*.po; do \
        [ -f "$po" ] || continue; \
        pybabel compile --input-file "$po" --output-file "${po%.po}.mo" || exit 1; \
    done \
    && SECRET_KEY=build-only-not-secret \
    ENCRYPTION_KEYS=build-only-not-a-key \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

RUN useradd --system --uid 10001 --user-group --home-dir /nonexistent --no-create-home pianke \
    && mkdir -p /var/lib/pianke/media \
    && chown -R pianke:pianke /var/lib/pianke
USER pianke

EXPOSE 8000
# One process per container; uvicorn reads WEB_CONCURRENCY for --workers if it is set.
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--lifespan", "off", "--timeout-keep-alive", "75"]
