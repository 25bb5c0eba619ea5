"""The embedded PostgreSQL that bin/serve (and bin/test, on a machine without one) starts: a
cluster made in a folder, served, found again while it runs, stopped, and started again with its
data kept. The same module and commands as bin/serve, in a temporary folder."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from carbonpoints import embedded_db

pytestmark = pytest.mark.embedded


@pytest.fixture
def cluster():
    # tempfile's folder, not pytest's tmp_path: as root the server runs as another user, who may
    # not enter pytest's private base folder
    folder = Path(tempfile.mkdtemp(prefix="carbonpoints-embedded-"))
    folder.chmod(0o755)
    try:
        yield folder / "postgres"
    finally:
        embedded_db.stop(folder / "postgres")
        shutil.rmtree(folder, ignore_errors=True)


def _query(url: str, sql: str):
    with psycopg.connect(url, connect_timeout=5) as conn:
        return conn.execute(sql).fetchone()[0]


def test_the_embedded_server_starts_serves_is_found_again_and_stops(cluster, capsys):
    assert embedded_db.main(["start", str(cluster), "--database", "demo"]) == 0
    url, state = capsys.readouterr().out.split()
    assert state == "started"
    assert url.startswith("postgres://postgres@127.0.0.1:") and url.endswith("/demo")
    assert _query(url, "SELECT current_setting('server_version_num')::int") >= 180000
    assert _query(url, "SELECT current_setting('listen_addresses')") == "127.0.0.1"
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE kept (n int)")
        conn.execute("INSERT INTO kept VALUES (42)")

    again = embedded_db.start(cluster, database="demo")
    assert not again.started and again.url("demo") == url  # found running, not started twice

    assert embedded_db.stop(cluster)
    assert embedded_db.running_port(cluster) is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)
    assert not embedded_db.stop(cluster)  # stopping a stopped server is no error

    restarted = embedded_db.start(cluster, database="demo")
    assert restarted.started and restarted.url("demo") == url  # the same port while it is free
    assert _query(url, "SELECT n FROM kept") == 42
