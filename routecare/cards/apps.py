from typing import Any

from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "routecare.cards"
    label = "cards"

    def ready(self) -> None:
        from routecare.cards.actions import cancel_cards_on_withdrawal
        from routecare.people.signals import consent_withdrawn

        consent_withdrawn.connect(cancel_cards_on_withdrawal, dispatch_uid="cards-withdrawal")

        from django.db.models.signals import post_delete, post_save

        from routecare.cards.models import CardKey, SigningKey
        from routecare.orgs.models import NationalSociety, Network

        # What readers resolve card keys with (keys.DatabaseKeys): a change drops the cache.
        for model in (Network, NationalSociety, CardKey, SigningKey):
            for signal in (post_save, post_delete):
                signal.connect(_keys_changed, sender=model, dispatch_uid=f"card-keys-{model}")


def _keys_changed(sender: Any, **kwargs: Any) -> None:
    from routecare.cards.keys import CARD_KEYS
    from routecare.core import caching

    caching.changed_with_transaction(CARD_KEYS)
