"""`tongban serve` behind a reverse proxy, and what its servers say about themselves (issue 9,
defects 9 and 10): with TONGBAN_HTTPS=1 and TONGBAN_BEHIND_PROXY=1 the single-process server
(waitress) believes the proxy's X-Forwarded-Proto, so an HTTPS request is served instead of being
redirected to itself forever; neither waitress nor gunicorn names its software in `Server`."""

import contextlib
import http.client
import os
import socket
import subprocess
import threading
import time

import pytest
import waitress
from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

from tongban.cli.main import gunicorn_command, waitress_options

BEHIND_AN_HTTPS_PROXY = {
    "SECURE_SSL_REDIRECT": True,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "TONGBAN_BEHIND_PROXY": True,
    "TONGBAN_TRUSTED_PROXY": "127.0.0.1",
}


def _get(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    connection.request("GET", path, headers={"Host": "127.0.0.1", **headers})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture
def waitress_behind_proxy():
    with override_settings(**BEHIND_AN_HTTPS_PROXY):
        server = waitress.create_server(WSGIHandler(), host="127.0.0.1", port=0, **waitress_options(2))

        def run():
            # Closing the server at teardown pulls the socket from under waitress's select loop.
            with contextlib.suppress(OSError, ValueError):
                server.run()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        try:
            yield server.effective_port
        finally:
            server.close()
            thread.join(timeout=5)


def test_waitress_serves_a_request_the_proxy_received_over_https(waitress_behind_proxy):
    port = waitress_behind_proxy
    hops = []
    path, headers = "/healthz", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    for _ in range(5):  # a browser gives up after ~20; five is already a loop
        response = _get(port, path, headers)
        hops.append(response.status)
        if response.status not in (301, 302):
            break
        path = response.getheader("Location").split("127.0.0.1", 1)[-1]
    assert hops == [200]
    # Plain HTTP through the proxy is still sent to HTTPS, once.
    plain = _get(port, "/healthz", {"X-Forwarded-Proto": "http"})
    assert plain.status == 301 and plain.getheader("Location") == "https://127.0.0.1/healthz"


def test_waitress_does_not_name_its_software(waitress_behind_proxy):
    response = _get(waitress_behind_proxy, "/healthz", {"X-Forwarded-Proto": "https"})
    assert response.getheader("Server") == "tongban"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(os.name != "posix", reason="gunicorn needs fork")
def test_gunicorn_does_not_name_its_software():
    port = _free_port()
    child = subprocess.Popen(gunicorn_command("127.0.0.1", port, 2, 1), stdout=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                response = _get(port, "/healthz", {})
                break
            except OSError:
                assert child.poll() is None, "gunicorn exited"
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
        assert response.status == 200
        assert response.getheader("Server") == "tongban"
    finally:
        child.terminate()
        child.wait(timeout=30)
