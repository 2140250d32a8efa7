from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "routecare.directory"
    label = "directory"
