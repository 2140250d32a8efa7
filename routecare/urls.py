from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language
from django_otp.admin import OTPAdminSite

from routecare.access import Rule, staff_view
from routecare.api import api
from routecare.core.views import healthz

# The Django admin is for system administrators only, and asks for their second factor.
admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("i18n/setlang/", staff_view(Rule.PUBLIC)(set_language), name="set_language"),
    path("accounts/", include("routecare.accounts.urls")),
    path("orgs/", include("routecare.orgs.urls")),
    path("audit/", include("routecare.audit.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("", include("routecare.cards.urls")),
    path("", include("routecare.directory.urls")),
    path("", include("routecare.referrals.urls")),
    path("", include("routecare.notifications.urls")),
    path("", include("routecare.flows.urls")),
    path("", include("routecare.indicators.urls")),
    path("", include("routecare.feedback.urls")),
    path("", include("routecare.messaging.urls")),
    path("", include("routecare.retention.urls")),
    path("", include("routecare.cash.urls")),
    path("", include("routecare.sync.urls")),
    path("", include("routecare.people.urls")),
    # Last: its public page `<lang>/register/` must not take `people/register/`.
    path("", include("routecare.preregistration.urls")),
]

# Under /api/ even Django's own 404 and 400 answer in JSON, like the API's handlers.
handler404 = "routecare.core.views.page_not_found"
handler400 = "routecare.core.views.bad_request"
