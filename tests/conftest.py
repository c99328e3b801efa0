"""Fixtures: a fresh migrated database per test (SQLite always, PostgreSQL when the binaries exist),
and `followup`, a driver for the real CLI on a fake clock."""

from __future__ import annotations

import itertools
import json
import os
import shutil
from pathlib import Path

import pg
import psycopg
import pytest
from click.testing import CliRunner

from followup import clock, db, migrate
from followup.cli import cli

pytest_plugins = ["channel_fixtures"]  # the fake Twilio server and aiosmtpd fixtures

NOW = "2026-12-01T14:00:00Z"  # a Tuesday, 09:00 in New York
_names = itertools.count()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Tests never see the developer's FOLLOWUP_*/TWILIO_* settings, nor a clock pinned by another test."""
    for name in list(os.environ):
        if name.startswith(("FOLLOWUP_", "TWILIO_")):
            monkeypatch.delenv(name)
    clock.pin(None)
    yield
    clock.pin(None)


@pytest.fixture(scope="session")
def pg_cluster():
    if pg.binaries() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true: PostgreSQL binaries (initdb, pg_ctl) are required but were not found")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found: PostgreSQL tests skipped")
    cluster = pg.Cluster().start()
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute("CREATE DATABASE followup_template")
    migrate.upgrade(cluster.url("followup_template"))
    yield cluster
    db.dispose()
    cluster.stop()


def new_pg_database(cluster) -> str:
    name = f"t{os.getpid()}_{next(_names)}"
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE followup_template")
    return name


def drop_pg_database(cluster, name: str) -> None:
    with psycopg.connect(cluster.url().replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    db.dispose()
    return path


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    target = tmp_path / "followup.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite:///{target}"
    yield url
    db.dispose(url)


@pytest.fixture
def pg_url(pg_cluster) -> str:
    name = new_pg_database(pg_cluster)
    url = pg_cluster.url(name)
    yield url
    db.dispose(url)
    drop_pg_database(pg_cluster, name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


class Followup:
    """Runs `followup ...` in-process through click, with the database and fake clock of the test."""

    def __init__(self, url: str, now: str = NOW):
        self.url = url
        self.now = now
        self.env: dict[str, str] = {}

    def __call__(self, *args: str, expect: int = 0, now: str | None = None, env: dict | None = None):
        full_env = {
            "FOLLOWUP_DATABASE_URL": self.url,
            "FOLLOWUP_NOW": now or self.now,
            **self.env,
            **(env or {}),
        }
        result = CliRunner().invoke(cli, [str(a) for a in args], env=full_env, catch_exceptions=True)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert result.exit_code == expect, (
            f"followup {' '.join(map(str, args))} exited {result.exit_code}, expected {expect}\n"
            f"stdout: {result.stdout}\nstderr: {result.stderr}"
        )
        return result

    def json(self, *args: str, **kw):
        return json.loads(self(*args, "--json", **kw).stdout)

    def clinic(self, **options) -> int:
        fields = {
            "name": "Elm Street Physio",
            "phone": "+1 617 555 0100",
            "timezone": "America/New_York",
            "alert-email": "alerts@elm.test",
            "alert-phone": "+1 617 555 0199",
            **options,
        }
        args = [x for k, v in fields.items() for x in (f"--{k}", v)]
        return int(self("clinic", "add", *args).stdout.strip())

    def enrol(self, clinic_id: int, **options) -> int:
        fields = {"name": "Ana Diaz", "phone": "+1 617 555 0123", "timezone": "America/New_York", **options}
        args = [x for k, v in fields.items() for x in (f"--{k}", v)]
        return int(self("enroll", "--clinic", clinic_id, *args, "--consent").stdout.strip())


@pytest.fixture
def followup(db_url) -> Followup:
    """The CLI on a fresh database, once per database engine."""
    return Followup(db_url)


@pytest.fixture
def followup_sqlite(sqlite_url) -> Followup:
    """The CLI on a fresh SQLite database only (for behaviour that does not depend on the engine)."""
    return Followup(sqlite_url)


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory this process cannot write in: mode 0500, or for root (who ignores modes) a
    read-only tmpfs, skipped where mounting is not allowed."""
    import subprocess

    folder = tmp_path / "read-only"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
        yield folder
        folder.chmod(0o700)
        return
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {done.stderr.decode().strip()}")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=True)
