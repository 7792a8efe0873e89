from django.apps import AppConfig


class UrgentConfig(AppConfig):
    name = "neighbourhood.care.urgent"
    label = "urgent"
    verbose_name = "Urgent neighbourhood services"
