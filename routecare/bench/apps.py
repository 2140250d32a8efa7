from django.apps import AppConfig


class BenchConfig(AppConfig):
    name = "routecare.bench"
    label = "bench"
