# One image for web (gunicorn), worker and beat (Celery); see docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are collected into the image (whitenoise serves them). The key and host
# below exist only for this build step; the running containers get theirs from .env.
RUN SECRET_KEY=collectstatic-build-only ALLOWED_HOSTS=localhost \
        python manage.py collectstatic --no-input \
    && useradd --create-home --uid 1000 --shell /usr/sbin/nologin funnel \
    && mkdir -p /app/var/media \
    && chown -R funnel:funnel /app/var

USER funnel

EXPOSE 8000
# The config runs Django's system checks first: no collected static files, no start.
CMD ["gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi:application"]
