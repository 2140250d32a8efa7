from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "routecare.cards"
    label = "cards"

    def ready(self) -> None:
        from routecare.cards.actions import cancel_cards_on_withdrawal
        from routecare.people.signals import consent_withdrawn

        consent_withdrawn.connect(cancel_cards_on_withdrawal, dispatch_uid="cards-withdrawal")
