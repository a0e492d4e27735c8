"""Outbound calls to tenant-given URLs refuse the inside of the network, on a real socket."""

from __future__ import annotations

import http.server
import threading

import pytest

from arcweb.outbound import OutboundRefused, check_url, http_client


@pytest.fixture
def local_server():
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:11434/v1", "http://localhost/", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]:8080/", "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/", "http://100.64.0.1/", "http://224.0.0.1/",
])
def test_private_targets_are_refused(url):
    with pytest.raises(OutboundRefused, match="private, loopback or link-local"):
        check_url(url, allow_private=False)


@pytest.mark.parametrize("url, reason", [
    ("ftp://example.com/", "http:// or https://"),
    ("https:///v1", "no host"),
    ("https://user:pw@api.example.com/", "credentials"),
    ("http://no-such-host.invalid/", "could not be resolved"),
])
def test_malformed_targets_say_why(url, reason):
    with pytest.raises(OutboundRefused, match=reason):
        check_url(url, allow_private=True)


def test_public_address_passes():
    assert check_url(" https://93.184.216.34/v1 ", allow_private=False) == "https://93.184.216.34/v1"


def test_connection_to_loopback_refused_at_connect_time(local_server):
    with http_client(allow_private=False, timeout=5) as client, pytest.raises(OutboundRefused):
        client.get(local_server)


def test_operator_may_allow_private_targets(local_server):
    with http_client(allow_private=True, timeout=5) as client:
        response = client.get(local_server)
    assert response.status_code == 200 and response.text == "hello"


def test_redirects_are_not_followed(local_server):
    with http_client(allow_private=True, timeout=5) as client:
        response = client.get(f"{local_server}/redirect")
    assert response.status_code == 302
