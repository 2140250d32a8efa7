"""Field nodes serve staff phones over HTTPS with a certificate from their society's own
certificate authority: the node makes its key, the server signs its request at enrolment,
phones trust the society's root (docs/sync.md, "Secure transport")."""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import stat
import threading
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client

from routecare.audit.models import AuditEvent
from routecare.conftest import Society, sign_in_client
from routecare.sync import nodes, plain_wsgi, tls
from routecare.sync.models import EnrolmentCode, Node, NodeAuthority, NodeTLSCertificate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def node_files(settings: Any, tmp_path: Path) -> tls.NodeFiles:
    """This test's own data directory: never the checkout's ``.local/``."""
    settings.LOCAL_DIR = tmp_path / "local"
    return tls.node_files()


def _request(*names: x509.GeneralName, key: ec.EllipticCurvePrivateKey | None = None) -> str:
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "node")])
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _enrol(client: Client, code: str, request: str) -> Any:
    return client.post(
        "/api/v1/sync/enroll",
        {"code": code, "name": "Lajas Blancas laptop", "extra": {"tls_csr": request}},
        content_type="application/json",
    )


def _code(society: Society) -> str:
    return nodes.create_enrolment_code(society.actor("focal_point"), society.point)


def _certificate(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def test_a_societys_authority_is_made_once_and_then_reused(own: Society) -> None:
    first = tls.authority_for(own.society)
    again = tls.authority_for(own.society)
    assert again.pk == first.pk
    assert NodeAuthority.objects.count() == 1
    root = tls.authority_certificate(first)
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
        f"RouteCare {own.society.name} field nodes CA"
    )
    root.verify_directly_issued_by(root)  # self-signed
    public = root.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    assert public.curve.name == "secp256r1"
    assert isinstance(root.signature_hash_algorithm, hashes.SHA256)
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical
    assert constraints.value.ca
    assert constraints.value.path_length == 0
    usage = root.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign
    assert usage.crl_sign
    assert not usage.digital_signature
    lifetime = root.not_valid_after_utc - root.not_valid_before_utc
    assert dt.timedelta(days=3650) < lifetime < dt.timedelta(days=3660)
    assert first.fingerprint == root.fingerprint(hashes.SHA256()).hex(":").upper()
    assert AuditEvent.objects.filter(object_type="node_authority").count() == 1


def test_the_authoritys_private_key_is_encrypted_at_rest(own: Society) -> None:
    authority = tls.authority_for(own.society)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT private_key FROM sync_nodeauthority WHERE id = %s", [authority.pk.hex]
        )
        [(stored,)] = cursor.fetchall()
    pem = str(NodeAuthority.objects.get(pk=authority.pk).private_key)
    assert "PRIVATE KEY" in pem
    body = "".join(pem.strip().splitlines()[1:-1])
    assert "PRIVATE KEY" not in stored
    assert body[:40] not in stored
    assert stored.startswith("rc1:")
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(serialization.Encoding.PEM, spki) == (
        tls.authority_certificate(authority)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, spki)
    )


def test_a_nodes_request_is_signed_for_the_names_it_asked_and_verifies_against_the_root(
    own: Society,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    request = _request(
        x509.DNSName("lajas-blancas.local"),
        x509.IPAddress(ipaddress.ip_address("192.168.8.10")),
        key=key,
    )
    response = _enrol(Client(), _code(own), request)
    assert response.status_code == 200, response.content
    extra = response.json()["extra"]
    leaf = _certificate(extra["tls_certificate"])
    root = _certificate(extra["tls_authority"])
    leaf.verify_directly_issued_by(root)
    assert root == tls.authority_certificate(
        NodeAuthority.objects.get(national_society=own.society)
    )
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["lajas-blancas.local"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.168.8.10")]
    usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.public_key() == key.public_key()
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc <= dt.timedelta(days=825)
    [issued] = NodeTLSCertificate.objects.all()
    assert int(issued.serial, 16) == leaf.serial_number
    assert issued.names == ["lajas-blancas.local", "192.168.8.10"]
    assert issued.node.service_point == own.point


def _broken_signature() -> str:
    """A request whose content was changed after it was signed."""
    pem = _request(x509.DNSName("nodeb.local"))
    signed = x509.load_pem_x509_csr(pem.encode()).public_bytes(serialization.Encoding.DER)
    tampered = signed.replace(b"nodeb.local", b"nodec.local")
    assert tampered != signed
    request = x509.load_der_x509_csr(tampered)
    return request.public_bytes(serialization.Encoding.PEM).decode()


@pytest.mark.parametrize(
    ("request_pem", "message"),
    [
        ("-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgcmVxdWVzdA==\n", "not a PEM certificate"),
        ("", "no certificate request"),
        (None, "does not verify"),  # made in the test: a broken signature
        ("*.local", "is not a host name or an IP address"),
        ("uri", "only host names and IP addresses"),
        ("none", "names no host name"),
    ],
)
def test_a_request_that_cannot_be_signed_is_a_422_and_the_code_stays_unused(
    own: Society, request_pem: str | None, message: str
) -> None:
    code = _code(own)
    bad: dict[str | None, Callable[[], str]] = {
        None: _broken_signature,
        "*.local": lambda: _request(x509.DNSName("*.local")),
        "uri": lambda: _request(x509.UniformResourceIdentifier("https://node.local/")),
        "none": lambda: _request(),
    }
    request = bad[request_pem]() if request_pem in bad else str(request_pem)
    response = _enrol(Client(), code, request)
    assert response.status_code == 422, response.content
    [said] = response.json()["detail"]["extra"]
    assert message in said
    assert EnrolmentCode.objects.get().used_at is None
    assert not Node.objects.exists()
    assert not NodeTLSCertificate.objects.exists()
    # Unused indeed: the same code enrols with a good request.
    assert _enrol(Client(), code, _request(x509.DNSName("node.local"))).status_code == 200


def test_another_societys_node_gets_another_authority(own: Society, other: Society) -> None:
    ours = _enrol(Client(), _code(own), _request(x509.DNSName("a.local"))).json()["extra"]
    theirs = _enrol(Client(), _code(other), _request(x509.DNSName("b.local"))).json()["extra"]
    assert ours["tls_authority"] != theirs["tls_authority"]
    assert NodeAuthority.objects.count() == 2
    with pytest.raises(ValueError, match="does not match"):
        _certificate(theirs["tls_certificate"]).verify_directly_issued_by(
            _certificate(ours["tls_authority"])
        )


def _enrolled_here(society: Society, *addresses: str) -> tls.NodeFiles:
    """Enrol as ``routecare node enroll`` does, one database playing both sides."""
    extra = tls.prepare_request(addresses=list(addresses))
    enrolment = nodes.enroll(_code(society), "laptop", extra=extra)
    files = tls.store_certificate({"node_id": str(enrolment.node.pk), "extra": enrolment.extra})
    assert files is not None
    return files


@pytest.fixture
def https_server(node_files: tls.NodeFiles) -> Iterator[Callable[[], int]]:
    """A real HTTPS server on loopback, started with the node's issued key and certificate."""

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)

    def start() -> int:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(node_files.certificate, node_files.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return int(server.server_address[1])

    yield start
    server.shutdown()
    server.server_close()


def _trusting(root_pem: bytes) -> ssl.SSLContext:
    return ssl.create_default_context(cadata=root_pem.decode())


def test_a_phone_trusting_the_root_completes_the_handshake_and_one_trusting_another_fails(
    own: Society, other: Society, https_server: Callable[[], int]
) -> None:
    files = _enrolled_here(own, "localhost", "127.0.0.1")
    port = https_server()
    root = files.authority.read_bytes()
    for host in ("localhost", "127.0.0.1"):
        answer = httpx.get(f"https://{host}:{port}/", verify=_trusting(root), timeout=10)
        assert answer.status_code == 200
        assert answer.text == "hello"
    another = tls.authority_for(other.society).certificate.encode()
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"https://localhost:{port}/", verify=_trusting(another), timeout=10)


def test_the_node_keeps_its_key_0600_and_the_server_never_holds_it(own: Society) -> None:
    files = _enrolled_here(own, "node.local")
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert not files.pending_key.exists()
    assert files.hosts.read_text() == "localhost,127.0.0.1,node.local"
    key_pem = files.key.read_text()
    body = "".join(key_pem.strip().splitlines()[1:-1])
    for row in NodeTLSCertificate.objects.all():
        assert body[:40] not in row.certificate
    assert tls.node_authority() == tls.authority_certificate(NodeAuthority.objects.get())


@pytest.mark.django_db(transaction=True)
def test_the_enrol_command_asks_for_the_addresses_given_and_writes_the_files(
    own: Society, live_server: Any, node_files: tls.NodeFiles
) -> None:
    out = StringIO()
    call_command(
        "node", "enroll", live_server.url, _code(own),
        "--address", "192.168.8.10", "--address", "Lajas-Blancas.local.", stdout=out,
    )  # fmt: skip
    assert stat.S_IMODE(node_files.key.stat().st_mode) == 0o600
    leaf = _certificate(node_files.certificate.read_text())
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["lajas-blancas.local"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("192.168.8.10")]
    root = _certificate(node_files.authority.read_text())
    leaf.verify_directly_issued_by(root)
    assert tls.fingerprint(root) in out.getvalue()
    assert str(node_files.key) in out.getvalue()


@pytest.mark.parametrize(
    "address",
    [
        "node local",
        "*.local",
        "192.168.8.300",
        "https://node",
        "node:8443",
        "0.0.0.0",  # noqa: S104 - an address the command must refuse
        "fe80::1%eth0",
    ],
)
def test_the_enrol_command_refuses_an_address_that_names_no_host(
    own: Society, node_files: tls.NodeFiles, address: str
) -> None:
    with pytest.raises(CommandError, match="is not a host name or an IP address"):
        call_command("node", "enroll", "http://127.0.0.1:9", _code(own), "--address", address)
    assert not node_files.directory.exists()  # no key made, nothing sent


def test_enrolment_over_plain_http_to_another_machine_is_refused(
    own: Society, node_files: tls.NodeFiles
) -> None:
    with pytest.raises(CommandError, match="HTTPS only"):
        call_command("node", "enroll", "http://192.168.8.1:8000", _code(own))
    assert not node_files.directory.exists()
    assert EnrolmentCode.objects.get().used_at is None


def test_revoking_a_node_records_its_certificate_revoked(own: Society) -> None:
    _enrolled_here(own, "node.local")
    node = Node.objects.get()
    nodes.revoke_node(own.actor("focal_point"), node, "stolen")
    [issued] = NodeTLSCertificate.objects.all()
    assert issued.revoked_at is not None
    assert AuditEvent.objects.filter(
        object_type="node_tls_certificate", action="revoke", object_id=issued.serial
    ).exists()


def test_focal_points_download_their_societys_root_and_see_its_fingerprint(
    own: Society, other: Society
) -> None:
    page = sign_in_client(own.focal_point).get("/sync/nodes/")
    authority = NodeAuthority.objects.get(national_society=own.society)
    assert authority.fingerprint in page.content.decode()
    download = sign_in_client(own.focal_point).get("/sync/nodes/ca.crt")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/x-x509-ca-cert"
    assert download["Content-Disposition"].endswith('.crt"')
    assert x509.load_der_x509_certificate(download.content) == tls.authority_certificate(authority)
    theirs = sign_in_client(other.focal_point).get("/sync/nodes/ca.crt")
    assert theirs.content != download.content
    assert sign_in_client(own.volunteer).get("/sync/nodes/ca.crt").status_code == 403


def test_a_node_offers_its_root_before_sign_in_and_a_server_has_no_such_page(
    own: Society, settings: Any
) -> None:
    anonymous = Client()
    assert anonymous.get("/sync/node/ca/").status_code == 404  # a server
    settings.ROUTECARE_NODE = True
    assert anonymous.get("/sync/node/ca.crt").status_code == 404  # not enrolled yet
    assert "no HTTPS certificate yet" in anonymous.get("/sync/node/ca/").content.decode()
    files = _enrolled_here(own, "node.local")
    root = x509.load_pem_x509_certificate(files.authority.read_bytes())
    page = anonymous.get("/sync/node/ca/")
    assert page.status_code == 200
    assert tls.fingerprint(root) in page.content.decode()
    download = anonymous.get("/sync/node/ca.crt")
    assert download["Content-Type"] == "application/x-x509-ca-cert"
    assert x509.load_der_x509_certificate(download.content) == root


def _call(application: Any, path: str, host: str = "192.168.8.10:8000") -> tuple[str, Any, bytes]:
    environ: dict[str, Any] = {"PATH_INFO": path, "HTTP_HOST": host, "QUERY_STRING": "a=1"}
    setup_testing_defaults(environ)
    said: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], *_: Any) -> None:
        said["status"], said["headers"] = status, dict(headers)

    body = b"".join(application(environ, start_response))
    return said["status"], said["headers"], body


def test_the_plain_http_listener_answers_only_the_root_and_sends_the_rest_to_https(
    own: Society, settings: Any
) -> None:
    settings.ROUTECARE_NODE = True
    settings.ALLOWED_HOSTS = ["192.168.8.10"]
    files = _enrolled_here(own, "192.168.8.10")
    application = plain_wsgi.make_application(WSGIHandler(), "8443")
    status, headers, _body = _call(application, "/people/register/")
    assert status.startswith("301")
    assert headers["Location"] == "https://192.168.8.10:8443/people/register/?a=1"
    status, headers, _body = _call(application, "/")
    assert status.startswith("302")
    assert headers["Location"] == "/sync/node/ca/"
    status, headers, body = _call(application, "/sync/node/ca.crt")
    assert status.startswith("200")
    assert headers["Content-Type"] == "application/x-x509-ca-cert"
    assert body == tls.der(x509.load_pem_x509_certificate(files.authority.read_bytes()))
    status, _headers, body = _call(application, "/sync/node/ca/")
    assert status.startswith("200")
    assert b"https://192.168.8.10:8443/" in body
