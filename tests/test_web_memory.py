"""A web worker does not import what only a few requests need (issue 14: memory).

pysaml2 (with the XML schemas it loads), reportlab, scim2-models (with pydantic),
authlib's OpenID Connect client, twitter-text and icalendar are imported by the code
that uses them; a worker that never serves SAML, SCIM, a PDF, an X post or a calendar
feed never holds them in memory.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAZY = (
    "saml2",
    "xmlschema",
    "reportlab",
    "scim2_models",
    "pydantic",
    "authlib",
    "twitter_text",
    "icalendar",
    "recurring_ical_events",
)


def test_the_web_application_starts_without_the_heavy_modules():
    script = (
        "import sys, django; django.setup();"
        "from django.urls import get_resolver; get_resolver().url_patterns;"
        "import govsocial.wsgi;"
        f"print('loaded:' + ','.join(m for m in {LAZY!r} if m in sys.modules))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "govsocial.settings.base", "DEBUG": "false"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    loaded = [line for line in result.stdout.splitlines() if line.startswith("loaded:")]
    assert loaded == ["loaded:"]


def test_the_saml_constants_are_pysaml2s_own():
    import saml2
    import saml2.saml

    from governance.services import saml

    assert saml.BINDING_HTTP_POST == saml2.BINDING_HTTP_POST
    assert saml.BINDING_HTTP_REDIRECT == saml2.BINDING_HTTP_REDIRECT
    assert saml.NAMEID_FORMAT_PERSISTENT == saml2.saml.NAMEID_FORMAT_PERSISTENT
