"""gunicorn's settings for the web process, read from the working directory.

gunicorn loads ``./gunicorn.conf.py`` by itself, so ``docker-compose.yml``, the
Dockerfile and ``make bench NAME=load`` all run the web workers this way; the command
line still sets the address, the worker count and the rest.

Memory (issue 14): the master imports the application once (``preload_app``) and the
workers are forked from it, so the code, the URL patterns and the libraries every
page needs sit in pages the workers share instead of one copy each. ``gc.freeze()``
before each fork moves the master's objects out of the collector's reach: a collection
in a worker would otherwise write to every one of them and copy the shared page.
Because the application is loaded before the fork, a new release needs a restart of
the web process (not ``kill -HUP``), and nothing may open a database or Redis
connection while the application loads (Django opens them on first use).
"""

from __future__ import annotations

import gc
from typing import Any

preload_app = True


def when_ready(server: Any) -> None:
    """Imports what the everyday pages load on first use, so the workers share it."""
    # The calendar's public holidays: the package imports every country's module.
    import holidays.countries  # noqa: F401
    from django.conf import settings
    from django.utils import translation

    from governance.dates import babel_locale

    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            translation.gettext("Inbox")  # loads the language's catalogues
        babel_locale(language).territories  # noqa: B018 (loads the locale's CLDR data)


def pre_fork(server: Any, worker: Any) -> None:
    gc.freeze()
