# ltxweb's one image: web (gunicorn), Celery worker and beat, and the simulator.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml requirements.lock ./
COPY ltxweb ltxweb
COPY generations generations
RUN pip install -c requirements.lock .

COPY . .
RUN useradd --system --uid 1000 ltxweb && mkdir -p /app/var && chown ltxweb /app/var
USER ltxweb

# collectstatic needs a settings module that boots: any 50-character key will do here.
RUN SECRET_KEY=build-only-build-only-build-only-build-only-build-only \
    DATABASE_URL=postgres://unused/unused python manage.py collectstatic --noinput

EXPOSE 8000
CMD ["gunicorn", "ltxweb.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
