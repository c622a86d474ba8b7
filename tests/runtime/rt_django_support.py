"""Configure and fully unconfigure the test Django project (Django's configuration is process-global)."""

from __future__ import annotations

import sys
from collections import defaultdict

DATABASE_NAME = "file:rt_django_tests?mode=memory&cache=shared"


def configure_django() -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="runtime-tests-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="rt_django_project.urls",
        INSTALLED_APPS=["rt_django_project"],
        MIDDLEWARE=[],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE_NAME}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
    )
    django.setup()
    from django.db import connection

    from rt_django_project.models import Author, Book, seed

    with connection.schema_editor() as editor:
        editor.create_model(Author)
        editor.create_model(Book)
    seed()


def unconfigure_django() -> None:
    from asgiref.local import Local
    from django.apps import apps
    from django.conf import settings
    from django.db import connections
    from django.urls import clear_url_caches
    from django.utils.functional import empty

    for connection in connections.all(initialized_only=True):
        # Django ignores close() on in-memory databases; the test database is dropped for real.
        if connection.connection is not None:
            connection.connection.close()
            connection.connection = None
    connections.__dict__.pop("settings", None)
    connections._connections = Local(connections.thread_critical)
    clear_url_caches()
    settings._wrapped = empty
    apps.app_configs = {}
    apps.all_models = defaultdict(dict)
    apps.apps_ready = apps.models_ready = apps.ready = apps.loading = False
    apps.clear_cache()
    for name in [name for name in sys.modules if name == "rt_django_project" or name.startswith("rt_django_project.")]:
        del sys.modules[name]
