# The production image: the locked dependencies, the code, collected static files.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH="/opt/venv/bin:$PATH"

RUN pip install --no-cache-dir uv
WORKDIR /app

# Dependencies first, from uv.lock only, so code changes reuse this layer.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project

COPY . .
RUN DEBUG=1 python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 kitty \
    && mkdir -p /app/var && chown kitty /app/var
USER kitty

EXPOSE 8000
CMD ["gunicorn", "kitty_troubleshoot.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
