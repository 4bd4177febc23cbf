"""The settings module stops a bad start with a message naming the variable.

Each case imports hall_ops.settings in a fresh interpreter with a given environment,
as a process manager would start the server.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Variables the settings read; each case starts from none of them set.
_SETTINGS_VARS = frozenset(
    re.findall(
        r'env_(?:str|bool|int|list)\(\s*"([A-Z_]+)"',
        (ROOT / "hall_ops" / "settings.py").read_text(),
    )
)
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-real-secret-key-for-production-use",
    "VISITOR_ID_KEY": "a-real-visitor-id-key-0123456789",
    "DATABASE_URL": "postgres://hallops:pw@db.internal:5432/hallops",
    "REDIS_URL": "redis://redis.internal:6379/0",
}


def start(
    env: dict[str, str], code: str = "import hall_ops.settings"
) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in _SETTINGS_VARS and not k.endswith("_FILE") and not k.startswith("DJANGO")
    }
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def assert_refused(env: dict[str, str], *names: str) -> str:
    result = start(env)
    assert result.returncode != 0, "the settings accepted a bad environment"
    assert "ImproperlyConfigured" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    for name in names:
        assert name in last, f"{name} not named in: {last}"
    return last


def test_it_starts_with_no_environment_at_all():
    result = start(
        {}, "import hall_ops.settings as s; print(s.DEBUG, s.DATABASES['default']['ENGINE'])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3"]


def test_it_starts_with_a_complete_production_environment():
    result = start(
        PRODUCTION, "import hall_ops.settings as s; print(s.DEBUG, s.EMBEDDED_SCHEDULER)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("value", ["maybe", "2", "yes please"])
def test_it_refuses_a_debug_that_is_not_a_boolean(value):
    last = assert_refused({"DEBUG": value}, "DEBUG")
    assert repr(value) in last


@pytest.mark.parametrize("name", ["HALL_RECALL_LIMIT", "HALL_ELDERLY_AGE", "DATABASE_CONN_MAX_AGE"])
def test_it_refuses_a_number_that_is_not_an_integer(name):
    assert_refused({name: "ten", "DATABASE_URL": PRODUCTION["DATABASE_URL"]}, name, "'ten'")


def test_it_refuses_a_number_below_its_minimum():
    assert_refused({"HALL_ELDERLY_AGE": "0"}, "HALL_ELDERLY_AGE", "at least 1")


@pytest.mark.parametrize(
    "url", ["mysql://root@127.0.0.1/hallops", "hallops.sqlite3", "postgres://127.0.0.1:5432/"]
)
def test_it_refuses_a_database_url_it_cannot_use(url):
    assert_refused({"DATABASE_URL": url}, "DATABASE_URL")


def test_it_refuses_a_redis_url_that_is_not_redis():
    assert_refused({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL")


def test_it_refuses_an_unknown_time_zone():
    assert_refused({"TIME_ZONE": "Asia/Atlantis"}, "TIME_ZONE", "Asia/Atlantis")


def test_it_refuses_a_language_it_has_no_translation_for():
    assert_refused({"LANGUAGE_CODE": "fr"}, "LANGUAGE_CODE", "'fr'")


def test_it_refuses_production_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    assert_refused(env, "SECRET_KEY", "DEBUG")


def test_it_refuses_production_without_a_visitor_id_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "VISITOR_ID_KEY"}
    assert_refused(env, "VISITOR_ID_KEY")


def test_it_refuses_production_with_the_development_secret_key():
    env = PRODUCTION | {"SECRET_KEY": "dev-only-secret-key-not-for-production"}
    assert_refused(env, "SECRET_KEY")


def test_it_refuses_a_visitor_id_key_too_short_to_be_secret():
    assert_refused(PRODUCTION | {"VISITOR_ID_KEY": "short"}, "VISITOR_ID_KEY", "16")


def test_it_reads_secrets_from_files(tmp_path):
    (tmp_path / "secret_key").write_text("key-from-a-docker-secret-file\n")
    (tmp_path / "visitor_key").write_text("visitor-key-from-a-secret-file\n")
    (tmp_path / "db_url").write_text("postgres://hallops:s3cret@db:5432/hallops\n")
    env = {k: v for k, v in PRODUCTION.items() if k not in ("SECRET_KEY", "VISITOR_ID_KEY")}
    env |= {
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "VISITOR_ID_KEY_FILE": str(tmp_path / "visitor_key"),
        "DATABASE_URL_FILE": str(tmp_path / "db_url"),
    }
    del env["DATABASE_URL"]
    result = start(
        env,
        "import hall_ops.settings as s; "
        "print(s.SECRET_KEY, s.VISITOR_ID_KEY, s.DATABASES['default']['PASSWORD'])",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "key-from-a-docker-secret-file",
        "visitor-key-from-a-secret-file",
        "s3cret",
    ]


def test_it_names_a_secret_file_it_cannot_read(tmp_path):
    env = PRODUCTION | {"SECRET_KEY_FILE": str(tmp_path / "missing")}
    del env["SECRET_KEY"]
    assert_refused(env, "SECRET_KEY_FILE", "missing")


def test_it_documents_every_variable_in_the_readme():
    variables = set(_SETTINGS_VARS)
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, re.MULTILINE))
    assert "SECRET_KEY" in variables and "DEBUG" in variables
    assert variables <= documented, f"not in README.md: {sorted(variables - documented)}"
