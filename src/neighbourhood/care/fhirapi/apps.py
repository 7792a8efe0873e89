from django.apps import AppConfig


class FhirApiConfig(AppConfig):
    name = "neighbourhood.care.fhirapi"
    label = "fhirapi"
    verbose_name = "FHIR API for partners' systems"

    def ready(self) -> None:
        from neighbourhood.care.fhirapi import notify

        notify.connect()
