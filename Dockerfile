# The service as a container: the Procfile's release step, then its web step
# (scripts/docker-entrypoint.sh). Runtime packages only, at the pins CI tested.
# Build: docker build -t auth-service .   Run with compose: see README, Deploying.
# Production (the default here) refuses to start without SECRET_KEY and PUBLIC_URL.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    APP_ENV=production \
    PORT=8000

WORKDIR /app

# Dependencies first: this layer is rebuilt only when the pins change, not on every edit.
# requirements.txt pulls in constraints.txt (-c), so transitive packages are pinned too.
COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt

COPY alembic.ini Procfile ./
COPY migrations ./migrations
COPY app ./app
COPY public ./public
COPY scripts/docker-entrypoint.sh ./scripts/docker-entrypoint.sh
# Bytecode now, as root: the code stays read-only to the user that runs it.
RUN python -m compileall -q app migrations \
    && useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent app \
    && mkdir data && chown app:app data

# Never root: the code and the installed packages are root's and read-only to this user;
# data/ is its own (only used without DATABASE_URL: SQLite, lost with the container).
USER app:app

EXPOSE 8000
# slim has no curl: the probe is Python's own urllib, failing on any error or non-2xx.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), timeout=4)"

ENTRYPOINT ["/app/scripts/docker-entrypoint.sh"]
CMD ["all"]
