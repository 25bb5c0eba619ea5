"""The benchmarks' own servers: a taken port stops a benchmark before any load is sent."""

import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import _server  # noqa: E402  (bench/ is a folder of scripts, not a package)


@pytest.fixture
def taken_port():
    """Another process's listening socket on a free port of the loopback."""
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen(1)
    yield other.getsockname()[1]
    other.close()


def test_a_taken_port_stops_the_benchmark_with_a_clear_message(taken_port):
    with pytest.raises(_server.PortTaken) as refused:
        _server.listening_socket("127.0.0.1", taken_port)

    message = str(refused.value)
    assert f"127.0.0.1:{taken_port}" in message and "BENCH_PORT" in message


def test_a_benchmark_stops_before_its_setup_when_its_port_is_taken(taken_port):
    with pytest.raises(_server.PortTaken) as refused:
        _server.ports_free(taken_port)

    assert f":{taken_port} " in str(refused.value)


def test_gunicorn_refuses_before_starting_a_server_on_a_taken_port(taken_port, monkeypatch):
    started = []
    monkeypatch.setattr(_server.subprocess, "Popen", lambda *a, **k: started.append(a))

    with pytest.raises(_server.PortTaken), _server.gunicorn(workers=1, port=taken_port):
        pass

    assert started == []


def test_a_free_port_is_held_for_the_server_to_inherit():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    held = _server.listening_socket("127.0.0.1", port)
    try:
        assert held.get_inheritable()
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # the kernel accepts into the held socket's backlog: nobody else can have it
    finally:
        held.close()
