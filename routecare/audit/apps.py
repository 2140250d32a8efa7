from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "routecare.audit"
    label = "audit"
