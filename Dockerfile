# syntax=docker/dockerfile:1
# Maily Flow: one image for the app (`maily serve`), the workers (`maily worker`) and the
# migration job (`maily migrate`). docs/operations.md explains the stages and how to run it.

# --- stage 1: the browser editor (Vite build into editor/dist) --------------------------
FROM node:22-bookworm-slim AS editor
WORKDIR /src/editor
COPY editor/package.json editor/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY editor/ ./
RUN npm run build

# --- stage 2: the Python virtualenv (dependencies pinned in pyproject.toml) --------------
FROM python:3.11-slim-bookworm AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY flows/ flows/
COPY nodes/ nodes/
COPY templates/ templates/
COPY migrations/ migrations/
# Installed in place (the same /app path in the runtime stage): the app finds migrations/
# and editor/dist next to its sources.
RUN pip install --upgrade pip && pip install -e . && python -m compileall -q backend flows nodes templates

# --- stage 3: slim runtime, non-root ----------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    MAILY_HOST=0.0.0.0 MAILY_PORT=8000 MAILY_DATA_DIR=/data MAILY_LOG_JSON=true
RUN groupadd --system --gid 10001 maily \
    && useradd --system --uid 10001 --gid maily --home-dir /app --shell /usr/sbin/nologin maily \
    && mkdir -p /data && chown maily:maily /data
WORKDIR /app
COPY --from=python /opt/venv /opt/venv
COPY --from=python /app /app
COPY --from=editor /src/editor/dist /app/editor/dist
USER 10001:10001
EXPOSE 8000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('MAILY_PORT', '8000')}/api/health\", timeout=4)"]
CMD ["maily", "serve"]
