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
# Collected with production settings, so the hashed names and the manifest the
# production storage serves from are written; the keys only satisfy the
# settings for this one command and stay out of the image.
RUN DEBUG=0 SECRET_KEY=collectstatic-only-not-a-secret-0000000000000000000 \
    CREDENTIALS_KEY=$(python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())") \
    python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 kitty \
    && mkdir -p /app/var && chown kitty /app/var
USER kitty

EXPOSE 8000
# --no-control-socket: gunicorn would otherwise create a control socket in the user's home.
# gthread: a cached help page is served by a free thread instead of queueing behind check requests.
CMD ["gunicorn", "kitty_troubleshoot.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "4", "--access-logfile", "-", "--no-control-socket"]
