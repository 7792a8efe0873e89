from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "neighbourhood.care.teams"
    label = "teams"
    verbose_name = "Organisations and teams"
