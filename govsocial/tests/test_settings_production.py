"""Production settings refuse to start without their secrets, and pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parents[2]
REQUIRED = (
    "SECRET_KEY",
    "ENCRYPTION_KEYS",
    "AUDIT_HMAC_KEYS",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
)


def clean_env(tmp_path: Path, **values: str) -> dict[str, str]:
    """Only what a fresh process needs: no developer variables, no .env influence."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "govsocial.settings.production",
        "GOVSOCIAL_VAR_DIR": str(tmp_path / "var"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "PYTHONDONTWRITEBYTECODE": "1",
        # A developer's .env must not fill in what the test leaves out.
        "GOVSOCIAL_ENV_FILE": str(tmp_path / "absent.env"),
    }
    env.update(values)
    return env


def production_env(tmp_path: Path) -> dict[str, str]:
    return clean_env(
        tmp_path,
        SECRET_KEY=Fernet.generate_key().decode() + Fernet.generate_key().decode(),
        ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        AUDIT_HMAC_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        # Never contacted by these checks.
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="social.example.gov",
        CSRF_TRUSTED_ORIGINS="https://social.example.gov",
        SITE_URL="https://social.example.gov",
    )


def run_python(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_refuse_to_load_without_secrets(tmp_path):
    result = run_python(clean_env(tmp_path), "-c", "import django; django.setup()")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for name in REQUIRED:
        assert name in result.stderr


def test_production_settings_name_only_the_missing_secret(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run_python(env, "-c", "import django; django.setup()")
    assert result.returncode != 0
    assert "need these environment variables: SECRET_KEY\n" in result.stderr


def test_production_settings_are_hardened(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.ALLOWED_HOSTS)"
    )
    result = run_python(production_env(tmp_path), "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False True True True True ['social.example.gov']"


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = run_python(
        production_env(tmp_path), "manage.py", "check", "--deploy", "--fail-level", "WARNING"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
