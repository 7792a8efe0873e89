from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "neighbourhood.care.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from neighbourhood.care import signin  # noqa: F401 - connects the sign-in receivers
        from neighbourhood.care.audit import privileges  # noqa: F401 - and privilege changes
