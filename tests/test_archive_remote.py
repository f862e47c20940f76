"""`newsdesk import` from archive URLs, as the extras newsdesk[http] and newsdesk[s3] promise:
an HTTPS server on 127.0.0.1 answering Range requests (what fsspec's HTTP filesystem sends),
and a local S3-compatible server (moto in server mode, started here on a free port).
The CLI runs as a process with the endpoint and credentials in its environment only."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "data"))
from warc_gen import news_records, write_warc

pytestmark = pytest.mark.slow

NEWSDESK = Path(sys.executable).with_name("newsdesk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "AWS_", "FSSPEC_"))}
    return subprocess.run([str(NEWSDESK), *args], capture_output=True, text=True, timeout=timeout,
                          env={**base, **env})


def warehouse_articles(url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT COUNT(*) FROM v_articles")).scalar_one()
    engine.dispose()
    return count


# --- HTTPS with Range requests ---------------------------------------------------------------------------

def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (the client trusts it through SSL_CERT_FILE) and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class RangeHandler(BaseHTTPRequestHandler):
    """Static files with HEAD and single-range GET (206 + Content-Range), as object stores answer."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self._serve(send_body=False)

    def do_GET(self):
        self._serve(send_body=True)

    def _serve(self, send_body: bool) -> None:
        body = self.server.files.get(self.path)
        wanted = self.headers.get("Range")
        self.server.requests.append((self.command, self.path, wanted))
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        start, end, status = 0, len(body) - 1, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", wanted or "")
        if match:
            first, last = match.groups()
            start, end = (int(first), min(int(last or len(body) - 1), len(body) - 1)) if first else (
                max(0, len(body) - int(last)), len(body) - 1)
            status = 206
        self.send_response(status)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "application/warc")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(body)}")
        self.end_headers()
        if send_body:
            self.wfile.write(body[start:end + 1])


@pytest.fixture
def https_server(tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.files, server.requests, server.cert = {}, [], cert
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_import_an_https_archive_through_range_requests(https_server, tmp_path):
    archive = tmp_path / "remote.warc.gz"
    write_warc(archive, news_records(12, 61))
    https_server.files["/crawl/remote-20260302120000.warc.gz"] = archive.read_bytes()
    url = f"https://127.0.0.1:{https_server.server_port}/crawl/remote-20260302120000.warc.gz"
    database = f"sqlite:///{tmp_path / 'w.db'}"
    # small blocks: the archive is read in several ranges, as a large one would be
    env = {"SSL_CERT_FILE": str(https_server.cert), "FSSPEC_HTTP": json.dumps({"block_size": 8192})}

    out = run_cli("import", url, "--database", database, "--workers", "0", "-q", env=env)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["files"][url]["status"] == "done" and report["files"][url]["pages"] == 12, report
    assert report["extracted"] == 12 and warehouse_articles(database) == 12
    gets = [r for r in https_server.requests if r[0] == "GET"]
    assert len(archive.read_bytes()) > 2 * 8192 and len(gets) >= 2
    assert all(wanted and wanted.startswith("bytes=") for _, _, wanted in gets), \
        f"every GET asked for a range, none for the whole file: {gets}"

    again = run_cli("import", url, "--database", database, "--workers", "0", "-q", env=env)
    assert json.loads(again.stdout)["files"][url]["status"] == "already_done"
    untrusted = run_cli("import", url, "--database", database, "--workers", "0", "-q", "--reprocess",
                        env={"FSSPEC_HTTP": env["FSSPEC_HTTP"]})
    assert untrusted.returncode != 0 or json.loads(untrusted.stdout)["failed_files"] == [url], \
        "an untrusted certificate is not read"


# --- S3 through moto's server ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3_endpoint():
    pytest.importorskip("moto", reason="moto (requirements-dev.txt) provides the local S3 server")
    port = free_port()
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"moto-{port}.log", "w+b")
    server = subprocess.Popen([sys.executable, "-W", "ignore", "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"moto server did not start: {log.read().decode(errors='replace')[-2000:]}")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        log.close()
        os.unlink(log.name)


CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}


def test_import_and_backfill_from_s3(s3_endpoint, tmp_path):
    import s3fs

    fs = s3fs.S3FileSystem(key="testing", secret="testing", client_kwargs={"endpoint_url": s3_endpoint,
                                                                           "region_name": "eu-west-1"})
    bucket = f"news-{os.getpid()}-{time.monotonic_ns()}"
    fs.mkdir(bucket)
    day, other = tmp_path / "day.warc.gz", tmp_path / "other.warc.gz"
    write_warc(day, news_records(9, 71))
    write_warc(other, news_records(5, 72))
    fs.put_file(str(day), f"{bucket}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260302000000-00001.warc.gz")
    fs.put_file(str(other), f"{bucket}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260303000000-00002.warc.gz")

    # a prefix stands for every archive below it; the endpoint from botocore's standard variable
    database = f"sqlite:///{tmp_path / 'a.db'}"
    out = run_cli("import", f"s3://{bucket}/crawl-data/", "--database", database, "--workers", "0", "-q",
                  env={**CREDENTIALS, "AWS_ENDPOINT_URL_S3": s3_endpoint})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert sorted(report["files"]) == [
        f"s3://{bucket}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260302000000-00001.warc.gz",
        f"s3://{bucket}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260303000000-00002.warc.gz",
    ]
    assert report["extracted"] == 14 and warehouse_articles(database) == 14

    # one day of the CC-NEWS layout; the endpoint from fsspec's configuration variable
    database = f"sqlite:///{tmp_path / 'b.db'}"
    out = run_cli("backfill", "archive", "--root", f"s3://{bucket}", "--from", "2026-03-02", "--database", database,
                  "--workers", "0", "-q", env={**CREDENTIALS, "FSSPEC_S3_ENDPOINT_URL": s3_endpoint})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert list(report["files"]) == [f"s3://{bucket}/crawl-data/CC-NEWS/2026/03/CC-NEWS-20260302000000-00001.warc.gz"]
    assert warehouse_articles(database) == 9

    missing = run_cli("import", f"s3://{bucket}/nope.warc.gz", "--database", database, "--workers", "0", "-q",
                      env={**CREDENTIALS, "AWS_ENDPOINT_URL_S3": s3_endpoint})
    assert missing.returncode == 1
