from django.apps import AppConfig


class CaseloadConfig(AppConfig):
    name = "neighbourhood.care.caseload"
    label = "caseload"
    verbose_name = "Caseloads"
