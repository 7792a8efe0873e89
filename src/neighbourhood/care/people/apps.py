from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "neighbourhood.care.people"
    label = "people"
    verbose_name = "People (read from the published refresh)"
