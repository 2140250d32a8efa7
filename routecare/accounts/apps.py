from typing import Any

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "routecare.accounts"
    label = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.models import User
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from routecare.access import access_changed
        from routecare.accounts.models import ApiToken
        from routecare.orgs.models import Membership, ServicePoint

        user_logged_in.connect(_remember_sign_in_time, dispatch_uid="routecare-signed-in-at")
        for model in (User, Membership, ApiToken, ServicePoint):
            for signal in (post_save, post_delete):
                signal.connect(access_changed, sender=model, dispatch_uid=f"access-{model}")
        m2m_changed.connect(
            access_changed, sender=Membership.service_points.through, dispatch_uid="access-m2m"
        )


def _remember_sign_in_time(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    import time

    from routecare.accounts.middleware import SIGNED_IN_AT

    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = time.time()
