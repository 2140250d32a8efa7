from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "routecare.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(_remember_sign_in_time, dispatch_uid="routecare-signed-in-at")


def _remember_sign_in_time(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    import time

    from routecare.accounts.middleware import SIGNED_IN_AT

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()
