"""``routecare node …``: set up and watch a field node; revoke one on the server."""

from __future__ import annotations

import ipaddress
import socket
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from routecare.sync import client, nodes, signals, tls
from routecare.sync.ingest import held_count
from routecare.sync.models import Node, NodeState, OutboxChange, SyncConflict


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_server_url(url: str) -> str:
    """HTTPS only: health data must not cross a network in clear (plain http on loopback,
    for tests and a server on the same machine)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CommandError("Give the server's address, e.g. https://routecare.cruzroja.hn")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise CommandError("Enrolment and sync run over HTTPS only.")
    return f"{parts.scheme}://{parts.netloc}"


def _addresses(given: list[str] | None) -> list[str]:
    """The names of the node's HTTPS certificate: as given, each checked; or the defaults."""
    if not given:
        found = tls.default_addresses()
        if not found:
            raise CommandError(
                "This machine's host name cannot name a certificate: give --address, "
                "e.g. --address 192.168.8.10 --address node.local"
            )
        return found
    checked: list[str] = []
    for raw in given:
        try:
            address = tls.check_address(raw)
        except ValueError as error:
            raise CommandError(
                f"--address {raw!r} is not a host name or an IP address: give e.g. "
                "--address 192.168.8.10 --address node.local"
            ) from error
        if address not in checked:
            checked.append(address)
    if len(checked) > tls.MAX_ADDRESSES:
        raise CommandError(f"Give at most {tls.MAX_ADDRESSES} addresses.")
    return checked


def _detail(response: httpx.Response) -> str:
    """The server's reason, a sentence or messages per field (a 422)."""
    try:
        detail = response.json().get("detail", "")
    except (ValueError, AttributeError):
        return ""
    if isinstance(detail, dict):
        return " ".join(str(m) for messages in detail.values() for m in messages)
    return str(detail)


class Command(BaseCommand):
    help = (
        "Field nodes. On the node: 'enroll <server> <code>', 'sync', 'status'. "
        "On the server: 'list', 'revoke <node id> --apply'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        enroll = sub.add_parser("enroll", help="enrol this machine with a one-time code")
        enroll.add_argument("server")
        enroll.add_argument("code")
        enroll.add_argument("--name", default=socket.gethostname())
        enroll.add_argument(
            "--address", action="append", default=None, metavar="NAME_OR_IP",
            help="a host name or IP address phones reach this node at, for its HTTPS "
            "certificate (repeat it; default: this machine's host name and <host name>.local)",
        )  # fmt: skip
        sub.add_parser("sync", help="send waiting changes now")
        sub.add_parser("status", help="enrolment, last sync, changes waiting, conflicts")
        sub.add_parser("list", help="on the server: every node")
        revoke = sub.add_parser("revoke", help="on the server: cut a node off")
        revoke.add_argument("node_id")
        revoke.add_argument("--reason", default="")
        revoke.add_argument("--apply", action="store_true", help="revoke, not only show")

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["what"])(options)

    def _enroll(self, options: dict[str, Any]) -> None:
        if NodeState.objects.exists():
            raise CommandError("This machine is already enrolled as a node.")
        server = check_server_url(options["server"])
        addresses = _addresses(options["address"])
        extra: dict[str, Any] = {}
        for _receiver, returned in signals.enrolment_preparing.send(
            sender=NodeState, addresses=addresses
        ):
            if isinstance(returned, dict):
                extra.update(returned)
        try:
            response = httpx.post(
                server + "/api/v1/sync/enroll",
                json={"code": options["code"], "name": options["name"][:80],
                      "version": version("routecare"), "extra": extra},
                timeout=client.TIMEOUT, verify=client.server_verification(),
            )  # fmt: skip
        except httpx.HTTPError as error:
            raise CommandError(f"The server cannot be reached: {type(error).__name__}") from error
        if response.status_code != 200:
            raise CommandError(f"Enrolment refused ({response.status_code}): {_detail(response)}")
        answer = response.json()
        with transaction.atomic():
            NodeState.objects.create(
                node_id=answer["node_id"], server_url=server, credential=answer["credential"],
                service_point_id=answer["service_point_id"],
                national_society_id=answer["national_society_id"],
            )  # fmt: skip
            signals.enrolment_completed.send(sender=NodeState, answer=answer)
        self.stdout.write(f"Enrolled as node {answer['node_id']} at {server}.")
        self._say_https()
        if not settings.ROUTECARE_NODE:
            self.stdout.write("Run RouteCare here with ROUTECARE_NODE=true (see README).")

    def _say_https(self) -> None:
        files = tls.node_files()
        root, leaf = tls.node_authority(), tls.node_certificate()
        if root is None or leaf is None:
            self.stdout.write(
                "The server signed no HTTPS certificate: `make node` serves plain http on this "
                "machine only."
            )
            return
        names = ", ".join(tls.certificate_names(leaf))
        until = f"{leaf.not_valid_after_utc:%Y-%m-%d}"
        self.stdout.write(f"HTTPS certificate for {names} until {until}, in {files.directory}")
        self.stdout.write(f"  key (stays here, 0600): {files.key}")
        self.stdout.write(f"  certificate: {files.certificate}")
        self.stdout.write(f"  the society's root, for staff phones: {files.authority}")
        self.stdout.write(f"  root SHA-256 fingerprint: {tls.fingerprint(root)}")

    def _sync(self, options: dict[str, Any]) -> None:
        try:
            report = client.sync_now()
        except client.SyncUnavailable as error:
            raise CommandError(f"Not synced: {error}") from error
        self.stdout.write(report.summary())

    def _status(self, options: dict[str, Any]) -> None:
        state = NodeState.objects.first()
        if state is None:
            self.stdout.write("Not a node: this is a server (or a node not enrolled yet).")
            return
        waiting = OutboxChange.objects.filter(state=OutboxChange.State.WAITING).count()
        refused = OutboxChange.objects.filter(state=OutboxChange.State.REFUSED).count()
        last = state.last_success_at.isoformat() if state.last_success_at else "never"
        self.stdout.write(f"node {state.node_id} of {state.server_url}")
        self.stdout.write(f"last successful sync: {last}")
        self.stdout.write(f"changes waiting: {waiting}; refused by the server: {refused}")
        self.stdout.write(
            f"conflicts open on the server (as of the last sync): {state.open_conflicts}"
        )
        if state.last_error:
            self.stdout.write(f"last error: {state.last_error}")

    def _list(self, options: dict[str, Any]) -> None:
        now = timezone.now()
        for node in Node.objects.select_related("service_point").order_by("name"):
            contact = (
                f"{int((now - node.last_contact_at).total_seconds() // 60)} min ago"
                if node.last_contact_at
                else "never"
            )
            state = f"revoked {node.revoked_at:%Y-%m-%d}" if node.revoked_at else "active"
            conflicts = SyncConflict.objects.filter(node=node, resolved_at__isnull=True).count()
            self.stdout.write(
                f"{node.pk}  {node.name}  {node.service_point.code}  last contact {contact}  "
                f"backlog {node.backlog} (+{held_count(node.pk)} held)  conflicts {conflicts}  "
                f"version {node.version or '?'}  {state}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        node = nodes.node_by_id(options["node_id"])
        if node is None:
            raise CommandError("No such node.")
        if not options["apply"]:
            self.stdout.write(f"Would revoke {node.name} at {node.service_point.code}.")
            self.stdout.write("Dry run: run with --apply to revoke.")
            return
        nodes.revoke_node(None, node, options["reason"])
        self.stdout.write(f"Revoked {node.name}: its credential no longer works.")
