"""Secure transport for field nodes: a private certificate authority of each National Society.

Staff phones reach their point's node over the point's Wi-Fi, and over HTTPS only: the camera
and service workers need a secure context, and health data must not cross the Wi-Fi in clear.
No public authority can certify a laptop at a border post known as ``192.168.8.10``, so each
society's server is the authority of its own nodes (docs/sync.md, "Secure transport"):

- The society's **root** is made on first need: ECDSA P-256 with SHA-256 (what Android and iOS
  accept), valid 10 years, ``CA:true, pathlen:0``, signing certificates and CRLs only. Its
  private key is kept encrypted at rest with the field keys (``EncryptedJSONField``), like the
  card keys. Staff install the root on their phones once (README, "A field node").
- At enrolment the node makes its TLS key itself (it never leaves the node) and sends a
  certificate signing request naming the host names and IP addresses it is reached at. The
  server checks the request's own signature and each name, and signs a leaf for HTTPS
  (``serverAuth``, those names only, 397 days, a random serial) with the society's root.
  A bad request refuses the whole enrolment (HTTP 422) and leaves the code unused.
- Revoking a node records its certificates' serials as revoked. Phones check no revocation
  list offline: a thief holding the node's TLS key can pass for that node on a Wi-Fi until the
  certificate expires (docs/threat-model.md), which is why it lives 397 days, not 825.

Connected to the sync app's signals in ``SyncConfig.ready()``, as the cards app certifies a
node's card key: the enrolment itself knows nothing of TLS.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from routecare.audit.actions import record_event, record_system_event
from routecare.orgs.models import NationalSociety
from routecare.sync.models import Node, NodeAuthority, NodeTLSCertificate

AUTHORITY_VALIDITY = dt.timedelta(days=3652)
# Short-ish: phones cannot check a revocation offline, so a stolen node's key is good for
# impersonating it until this runs out (Apple caps certificates of installed roots at 825 days).
LEAF_VALIDITY = dt.timedelta(days=397)
# Phones whose clock runs a little behind still accept a certificate made just now.
BACKDATE = dt.timedelta(hours=1)
MAX_REQUEST_CHARS = 8192
MAX_ADDRESSES = 20
CONTENT_TYPE = "application/x-x509-ca-cert"

# The names under which the request and the certificates travel in the enrolment's "extra".
REQUEST_FIELD = "tls_csr"
CERTIFICATE_FIELD = "tls_certificate"
AUTHORITY_FIELD = "tls_authority"


class CertificateRequestError(ValidationError):
    """The node's certificate signing request cannot be signed: the enrolment is refused
    (HTTP 422) and changes nothing."""


# Names a node is reached at.

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def check_address(raw: str) -> str:
    """A host name or an IP address, written the one way a certificate names it; raises
    ``ValueError`` for anything else (a wildcard, a URL, a port, an address no one can reach)."""
    value = raw.strip().lower().rstrip(".")
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is not None:
        scoped = isinstance(address, ipaddress.IPv6Address) and address.scope_id is not None
        if address.is_unspecified or address.is_multicast or scoped:
            raise ValueError(f"{raw!r} is not an address a phone can reach")
        return str(address)
    labels = value.split(".")
    if (
        not value
        or len(value) > 253
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()  # 192.168.8.300 is a mistyped address, not a host name
    ):
        raise ValueError(f"{raw!r} is not a host name or an IP address")
    return value


def default_addresses() -> list[str]:
    """This machine's host name and its ``.local`` name (multicast DNS on the point's Wi-Fi)."""
    found: list[str] = []
    hostname = socket.gethostname()
    for candidate in (hostname, hostname.split(".")[0] + ".local"):
        try:
            checked = check_address(candidate)
        except ValueError:
            continue
        if checked not in found:
            found.append(checked)
    return found


def _general_name(value: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate, as phones show it: ``AB:CD:…``."""
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(Encoding.PEM).decode("ascii")


# Server side: the society's authority.


def _authority_name(society: NationalSociety) -> x509.Name:
    # A common name is at most 64 characters: a long society name is shortened to fit.
    room = 64 - len("RouteCare  field nodes CA")
    return x509.Name(
        [
            x509.NameAttribute(
                NameOID.COMMON_NAME, f"RouteCare {society.name[:room]} field nodes CA"
            ),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, society.name[:64]),
        ]
    )


def _key_usage(*, authority: bool, rsa_key: bool = False) -> x509.KeyUsage:
    """A root signs certificates and revocation lists only; a node's key signs handshakes
    (an RSA key also enciphers them)."""
    return x509.KeyUsage(
        digital_signature=not authority,
        content_commitment=False,
        key_encipherment=rsa_key,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=authority,
        crl_sign=authority,
        encipher_only=False,
        decipher_only=False,
    )


def _create_authority(society: NationalSociety) -> NodeAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _authority_name(society)
    now = timezone.now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + AUTHORITY_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            _key_usage(authority=True),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    private_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    authority = NodeAuthority.objects.create(
        national_society=society,
        certificate=_pem(certificate),
        private_key=private_pem.decode("ascii"),
        fingerprint=fingerprint(certificate),
        not_after=certificate.not_valid_after_utc,
    )
    record_system_event(
        "create", "node_authority", authority.pk, national_society_id=society.pk,
        detail=f"SHA-256 {authority.fingerprint}"[:200],
    )  # fmt: skip
    return authority


def authority_for(society: NationalSociety) -> NodeAuthority:
    """The society's authority, made the first time it is needed (once, even when two
    enrolments ask at the same moment: the database allows one per society)."""
    found = NodeAuthority.objects.filter(national_society=society).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return _create_authority(society)
    except IntegrityError:
        return NodeAuthority.objects.get(national_society=society)


def authority_certificate(authority: NodeAuthority) -> x509.Certificate:
    return x509.load_pem_x509_certificate(authority.certificate.encode("ascii"))


# Server side: a node's certificate.


@dataclass(frozen=True)
class CheckedRequest:
    request: x509.CertificateSigningRequest
    names: list[str]


def _refuse(message: str) -> CertificateRequestError:
    return CertificateRequestError({"extra": [message]})


def _check_key(request: x509.CertificateSigningRequest) -> None:
    try:
        key = request.public_key()
    except (UnsupportedAlgorithm, ValueError) as error:
        raise _refuse(_("The node's TLS key is of a kind phones do not accept.")) from error
    acceptable = (isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in (
        "secp256r1", "secp384r1"
    )) or (isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048)  # fmt: skip
    if not acceptable:
        raise _refuse(
            _("The node's TLS key must be ECDSA P-256 or P-384, or RSA of 2048 bits or more.")
        )


def _requested_names(request: x509.CertificateSigningRequest) -> list[str]:
    try:
        asked = request.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as error:
        raise _refuse(
            _("The node's certificate request names no host name or IP address.")
        ) from error
    except ValueError as error:  # a malformed extension
        raise _refuse(_("The node's certificate request is not readable.")) from error
    names: list[str] = []
    for general in asked:
        if not isinstance(general, x509.DNSName | x509.IPAddress):
            raise _refuse(
                _("The node's certificate request may name only host names and IP addresses.")
            )
        raw = str(general.value)
        try:
            checked = check_address(raw)
        except ValueError as error:
            raise _refuse(
                _("%(name)s is not a host name or an IP address the node can be reached at.")
                % {"name": raw[:80]}
            ) from error
        if checked not in names:
            names.append(checked)
    if not names:
        raise _refuse(_("The node's certificate request names no host name or IP address."))
    if len(names) > MAX_ADDRESSES:
        raise _refuse(
            _("A node is reached at %(most)s names or addresses at most.") % {"most": MAX_ADDRESSES}
        )
    return names


def check_request(raw: object) -> CheckedRequest:
    """A certificate signing request the society may sign: readable, signed by the key it
    carries (the node holds that key), a key phones accept, only host names and IP addresses."""
    if not isinstance(raw, str) or not raw.strip():
        raise _refuse(_("The node sent no certificate request for its HTTPS."))
    if len(raw) > MAX_REQUEST_CHARS:
        raise _refuse(_("The node's certificate request is too large."))
    try:
        request = x509.load_pem_x509_csr(raw.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise _refuse(
            _("The node's certificate request is not a PEM certificate signing request.")
        ) from error
    _check_key(request)
    try:
        signed = request.is_signature_valid
    except (UnsupportedAlgorithm, ValueError):
        signed = False
    if not signed:
        raise _refuse(
            _("The signature of the node's certificate request does not verify: make a new one.")
        )
    return CheckedRequest(request, _requested_names(request))


def issue_certificate(node: Node, raw_request: object) -> NodeTLSCertificate:
    """The node's HTTPS certificate, signed by its society's authority for the names it asked.
    The society is the node's (from its enrolment code), never one the request names."""
    checked = check_request(raw_request)
    society = NationalSociety.objects.get(pk=node.national_society_id)
    authority = authority_for(society)
    issuer = authority_certificate(authority)
    issuer_key = load_pem_private_key(str(authority.private_key).encode("ascii"), password=None)
    if not isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        raise TypeError("a node authority's key is ECDSA")
    key = checked.request.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        raise TypeError("checked in check_request")
    now = timezone.now()
    serial = x509.random_serial_number()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, checked.names[0][:64]),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, society.name[:64]),
                ]
            )
        )
        .issuer_name(issuer.subject)
        .public_key(key)
        .serial_number(serial)
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + LEAF_VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in checked.names]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            _key_usage(authority=False, rsa_key=isinstance(key, rsa.RSAPublicKey)),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )
    issued = NodeTLSCertificate.objects.create(
        serial=format(serial, "x"),
        node=node,
        authority=authority,
        names=checked.names,
        certificate=_pem(certificate),
        not_after=certificate.not_valid_after_utc,
    )
    record_system_event(
        "create", "node_tls_certificate", issued.serial, national_society_id=society.pk,
        detail=f"node {node.pk}: {', '.join(checked.names)}"[:200],
    )  # fmt: skip
    return issued


def issue_on_enrolment(node: Node, extra: dict[str, Any], **_kwargs: Any) -> dict[str, str]:
    """``node_enrolling``: sign the node's request, if it sent one (an older node sends none
    and serves plain http on its own machine only)."""
    if REQUEST_FIELD not in extra:
        return {}
    issued = issue_certificate(node, extra[REQUEST_FIELD])
    return {CERTIFICATE_FIELD: issued.certificate, AUTHORITY_FIELD: issued.authority.certificate}


def revoke_on_revocation(node: Node, actor: Any, **_kwargs: Any) -> list[str]:
    """``node_revoked``: the node's certificates are recorded revoked, serial by serial."""
    now = timezone.now()
    serials = list(
        NodeTLSCertificate.objects.filter(node=node, revoked_at__isnull=True).values_list(
            "serial", flat=True
        )
    )
    NodeTLSCertificate.objects.filter(serial__in=serials).update(revoked_at=now)
    for serial in serials:
        if actor is not None:
            record_event(actor, "revoke", "node_tls_certificate", serial, detail=f"node {node.pk}")
        else:
            record_system_event(
                "revoke", "node_tls_certificate", serial,
                national_society_id=node.national_society_id, detail=f"node {node.pk}",
            )  # fmt: skip
    return serials


# Node side: the files under the node's local data directory.


@dataclass(frozen=True)
class NodeFiles:
    directory: Path

    @property
    def key(self) -> Path:  # the node's TLS private key (0600): never leaves this machine
        return self.directory / "node.key"

    @property
    def pending_key(self) -> Path:  # made for an enrolment under way
        return self.directory / "node.key.pending"

    @property
    def certificate(self) -> Path:  # what gunicorn serves: the leaf (the root signs it directly)
        return self.directory / "node.crt"

    @property
    def authority(self) -> Path:  # the society's root, for staff phones to install
        return self.directory / "ca.crt"

    @property
    def hosts(self) -> Path:  # the names in the certificate: ALLOWED_HOSTS of `make node`
        return self.directory / "hosts"


def node_files() -> NodeFiles:
    return NodeFiles(Path(settings.LOCAL_DIR) / "node-tls")


def _write(path: Path, content: bytes, mode: int) -> None:
    """Whole or not at all: written beside, synced, then renamed over."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(descriptor, content)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    os.chmod(temporary, mode)  # the mode of open() is masked by umask
    os.replace(temporary, path)


def prepare_request(addresses: list[str] | None = None, **_kwargs: Any) -> dict[str, str]:
    """``enrolment_preparing``: a new TLS key made here (kept 0600, never sent) and a request
    for a certificate naming ``addresses`` (checked by the caller)."""
    names = addresses if addresses is not None else default_addresses()
    if not names:
        return {}
    key = ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64])]))
        .add_extension(
            x509.SubjectAlternativeName([_general_name(name) for name in names]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    files = node_files()
    _write(
        files.pending_key,
        key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()),
        0o600,
    )
    return {REQUEST_FIELD: request.public_bytes(Encoding.PEM).decode("ascii")}


def store_certificate(answer: dict[str, Any], **_kwargs: Any) -> NodeFiles | None:
    """``enrolment_completed``: keep the certificate the server signed for this node's key, and
    the society's root, once both are checked; a server that signed none leaves no files."""
    extra = answer.get("extra")
    leaf_pem = extra.get(CERTIFICATE_FIELD) if isinstance(extra, dict) else None
    root_pem = extra.get(AUTHORITY_FIELD) if isinstance(extra, dict) else None
    files = node_files()
    if not isinstance(leaf_pem, str) or not isinstance(root_pem, str):
        files.pending_key.unlink(missing_ok=True)
        return None
    leaf = x509.load_pem_x509_certificate(leaf_pem.encode("ascii"))
    root = x509.load_pem_x509_certificate(root_pem.encode("ascii"))
    key = load_pem_private_key(files.pending_key.read_bytes(), password=None)
    spki = PublicFormat.SubjectPublicKeyInfo
    if leaf.public_key().public_bytes(Encoding.PEM, spki) != key.public_key().public_bytes(
        Encoding.PEM, spki
    ):
        raise ValueError("the server certified a TLS key that is not this node's")
    leaf.verify_directly_issued_by(root)  # raises when it is not
    names = certificate_names(leaf)
    _write(files.certificate, leaf_pem.encode("ascii"), 0o644)
    _write(files.authority, root_pem.encode("ascii"), 0o644)
    hosts = dict.fromkeys(["localhost", "127.0.0.1", *names])  # once each, in order
    _write(files.hosts, ",".join(hosts).encode("ascii"), 0o644)
    os.replace(files.pending_key, files.key)  # made 0600
    return files


def certificate_names(certificate: x509.Certificate) -> list[str]:
    """The host names and IP addresses a certificate is for."""
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name.value) for name in names.value]


def _load(path: Path) -> x509.Certificate | None:
    if not path.exists():
        return None
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except ValueError:
        return None


def node_certificate() -> x509.Certificate | None:
    """On a node: its HTTPS certificate, if it was given one at enrolment."""
    return _load(node_files().certificate)


def node_authority() -> x509.Certificate | None:
    """On a node: its society's root, if it was given one at enrolment."""
    return _load(node_files().authority)
