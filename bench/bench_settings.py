"""Settings of the benchmarks: the project's own settings, with three bench-only changes.

- ROOT_URLCONF adds the bare baseline views (bench_urls.py) in front of the project's URLs.
- Plain static storage: with DEBUG off the project uses the manifest storage, which needs
  `collectstatic` first; the bench measures request handling, not asset hashing.
- "testserver" is an allowed host, for django.test.Client.
- Quieter logs: axes' INFO lines (start-up, the force_login of the list bench) hide the figures.

DEBUG, SECRET_KEY, DATABASE_URL and the Celery transport come from the environment that
benchlib.configure() sets before Django starts."""

from erpcontinuity.settings import *  # noqa: F403
from erpcontinuity.settings import ALLOWED_HOSTS, LOGGING, STORAGES

ROOT_URLCONF = "bench_urls"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "axes": {"level": "WARNING"}}}
