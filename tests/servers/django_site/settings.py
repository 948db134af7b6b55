"""A minimal Django site whose readiness is django-health-check's database check: the reference
case for the readiness drill with a real health library and a real PostgreSQL behind gonogo's
proxy (tests/grace_servers.rs). Everything comes from the environment the drill sets."""
import os

SECRET_KEY = "test-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "urls"
INSTALLED_APPS = ["health_check"]
MIDDLEWARE = []
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": os.environ["DB_PORT"],
        "NAME": "postgres",
        "USER": "postgres",
        "PASSWORD": os.environ["DB_PASSWORD"],
        # A cut dependency must fail the check, not hang it: libpq's connect timeout.
        "OPTIONS": {"connect_timeout": 1},
    }
}
USE_TZ = True
