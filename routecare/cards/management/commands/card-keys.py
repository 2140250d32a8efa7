from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from routecare.cards import keys
from routecare.cards.models import CardKey, NodeCertificate, RevokedSerial, SigningKey
from routecare.orgs.models import NationalSociety, Network


class Command(BaseCommand):
    help = (
        "Manage care card keys: `init` makes missing keys, `list` shows them, `rotate-card-key "
        "NETWORK` and `rotate-signing-key COUNTRY` make new current keys (old ones keep working), "
        "`retire KID` stops a key for good, `revoke SERIAL --reason lost|stolen` lists a card as "
        "revoked."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "operation",
            choices=["init", "list", "rotate-card-key", "rotate-signing-key", "retire", "revoke"],
        )
        parser.add_argument("target", nargs="?", help="network slug, country code, key id, serial")
        parser.add_argument("--reason", choices=["lost", "stolen"], default="lost")
        parser.add_argument("--yes", action="store_true", help="confirm retiring a key")

    def handle(self, *args: Any, **options: Any) -> None:
        operation, target = options["operation"], options["target"]
        try:
            if operation == "init":
                for each in Network.objects.all():
                    keys.ensure_keys(each)
                self._list()
            elif operation == "list":
                self._list()
            elif operation == "rotate-card-key":
                network = Network.objects.filter(slug=target).first()
                if network is None:
                    raise CommandError(f"no network {target!r}")
                self.stdout.write(f"new card key {keys.create_card_key(network).kid}")
            elif operation == "rotate-signing-key":
                society = NationalSociety.objects.filter(
                    country_code=(target or "").upper()
                ).first()
                if society is None:
                    raise CommandError(f"no National Society with country code {target!r}")
                self.stdout.write(f"new signing key {keys.create_signing_key(society).kid}")
            elif operation == "retire":
                if not options["yes"]:
                    raise CommandError(
                        "retiring a key makes every card under it unreadable; add --yes to do it"
                    )
                keys.retire_key(target or "")
                self.stdout.write(f"retired {target}")
            else:
                revocation = keys.revoke_serial(target or "", options["reason"])
                self.stdout.write(f"revoked {revocation.serial} ({revocation.reason})")
        except keys.KeyManagementError as error:
            raise CommandError(str(error)) from error

    def _list(self) -> None:
        for network in Network.objects.order_by("slug"):
            self.stdout.write(f"{network.slug} (card number {network.card_number})")
            for card_key in CardKey.objects.filter(network=network):
                state = (
                    f"retired {card_key.retired_at:%Y-%m-%d}" if card_key.retired_at else "active"
                )
                self.stdout.write(
                    f"  card key {card_key.kid}  {card_key.created_at:%Y-%m-%d}  {state}"
                )
            for signing_key in SigningKey.objects.filter(
                national_society__network=network
            ).select_related("national_society"):
                state = (
                    f"retired {signing_key.retired_at:%Y-%m-%d}"
                    if signing_key.retired_at
                    else "active"
                )
                self.stdout.write(
                    f"  signing key {signing_key.kid}  "
                    f"{signing_key.national_society.country_code}  "
                    f"{signing_key.created_at:%Y-%m-%d}  {state}  public {signing_key.public_key}"
                )
            for certificate in NodeCertificate.objects.filter(
                national_society__network=network
            ).select_related("national_society"):
                state = (
                    f"revoked {certificate.revoked_at:%Y-%m-%d}, "
                    f"{len(certificate.allowed_serials)} cards kept"
                    if certificate.revoked_at
                    else "active"
                )
                self.stdout.write(
                    f"  node key {certificate.kid}  "
                    f"{certificate.national_society.country_code}  node {certificate.node_id}  "
                    f"certified by {certificate.signer_kid}  {state}"
                )
            revoked = RevokedSerial.objects.filter(network=network).count()
            self.stdout.write(f"  revoked serials: {revoked}")
