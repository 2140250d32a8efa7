from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "routecare.cards"
    label = "cards"

    def ready(self) -> None:
        from routecare.cards.actions import cancel_cards_on_withdrawal
        from routecare.people.signals import consent_withdrawn

        consent_withdrawn.connect(cancel_cards_on_withdrawal, dispatch_uid="cards-withdrawal")

        from routecare.cards.keys import CARD_KEYS
        from routecare.cards.models import CardKey, NodeCertificate, SigningKey
        from routecare.core import caching
        from routecare.orgs.models import NationalSociety, Network

        # What readers resolve card keys with (keys.DatabaseKeys).
        caching.drop_on_change(
            CARD_KEYS, Network, NationalSociety, CardKey, SigningKey, NodeCertificate
        )

        from routecare.cards import nodekeys
        from routecare.sync import signals as node_signals

        # Field nodes sign the cards they issue with their own key, certified by their
        # society's (nodekeys); the sync app does not know cards, cards listens to it.
        node_signals.node_enrolling.connect(nodekeys.certify_node_key, dispatch_uid="cards-node")
        node_signals.node_revoked.connect(nodekeys.revoke_node_key, dispatch_uid="cards-node")
        node_signals.enrolment_preparing.connect(
            nodekeys.prepare_node_key, dispatch_uid="cards-node"
        )
        node_signals.enrolment_completed.connect(
            nodekeys.store_node_certificate, dispatch_uid="cards-node"
        )
