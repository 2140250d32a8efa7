from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "routecare.cards"
    label = "cards"

    def ready(self) -> None:
        from routecare.cards.actions import cancel_cards_on_withdrawal
        from routecare.people.signals import consent_withdrawn

        consent_withdrawn.connect(cancel_cards_on_withdrawal, dispatch_uid="cards-withdrawal")

        from routecare.cards.keys import CARD_KEYS
        from routecare.cards.models import CardKey, SigningKey
        from routecare.core import caching
        from routecare.orgs.models import NationalSociety, Network

        # What readers resolve card keys with (keys.DatabaseKeys).
        caching.drop_on_change(CARD_KEYS, Network, NationalSociety, CardKey, SigningKey)
