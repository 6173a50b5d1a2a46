# GovSocial image: one image for the web, worker and beat processes (see docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# gettext compiles the translations below.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext xmlsec1 ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, so a code change does not reinstall them. pyproject.toml lists
# no packages of its own (the code runs from /app), so this installs only what it needs.
COPY pyproject.toml ./
RUN pip install .

COPY . .

RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin govsocial \
    && mkdir -p /app/var /app/staticfiles \
    && chown govsocial:govsocial /app/var

# The code runs from /app (nothing is installed as a package), whichever command starts it.
ENV PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=govsocial.settings.production \
    GOVSOCIAL_VAR_DIR=/app/var \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media

# Static files and translations are built into the image. The production settings
# refuse to load without their secrets, so this step alone gets placeholder values
# that exist only while it runs; the real ones come from the environment at run time.
RUN SECRET_KEY=build-only-placeholder \
    ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    AUDIT_HMAC_KEYS=build-only-placeholder \
    DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    REDIS_URL=redis://localhost:6379/0 \
    ALLOWED_HOSTS=localhost \
    GOVSOCIAL_VAR_DIR=/tmp/build-var \
    sh -c 'if find . -name "*.po" -not -path "./var/*" | grep -q .; then \
               python manage.py compilemessages -v 0 --ignore=var; fi \
           && python manage.py collectstatic --noinput -v 0' \
    && rm -rf /tmp/build.sqlite3 /tmp/build-var

USER govsocial
EXPOSE 8000

CMD ["gunicorn", "govsocial.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
