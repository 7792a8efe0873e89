from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "neighbourhood.care.plans"
    label = "plans"
    verbose_name = "Personalised care"
