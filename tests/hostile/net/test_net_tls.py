"""HTTPS to a pinned address: the socket goes to the address checked, TLS still sends the URL's
name as SNI and verifies the certificate against that name."""

from __future__ import annotations

import datetime
import http.server
import socket
import ssl
import threading

import pytest
from netcases import PUBLIC_HOST

from newsdesk.fetch import Fetcher, FetchError

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    cert, key = self_signed(tmp_path, "news.example")
    names: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"secure")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer((PUBLIC_HOST, 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert, names
    server.shutdown()
    server.server_close()


def pinned(host, port, *args, **kwargs):
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_HOST, port))]


def test_https_to_pinned_address_sends_sni_and_verifies_the_name(guarded, tls_server):
    port, _, names = tls_server
    with Fetcher(guarded, resolver=pinned) as fetcher, pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
        fetcher.get(f"https://news.example:{port}/")  # self-signed: not in the trust store, so refused
    assert names == ["news.example"]


def test_https_certificate_for_the_name_accepted_at_the_pinned_address(guarded, tls_server):
    port, cert, names = tls_server
    fetcher = Fetcher(guarded, resolver=pinned)
    fetcher._client._transport._pool._ssl_context = ssl.create_default_context(cafile=str(cert))  # trust our CA
    with fetcher:
        assert fetcher.get(f"https://news.example:{port}/").body == b"secure"
        with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED|hostname"):
            fetcher.get(f"https://other.example:{port}/")  # same address, a name the certificate lacks
    assert names[:2] == ["news.example", "other.example"]
