from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "neighbourhood.care.meetings"
    label = "meetings"
    verbose_name = "MDT meetings"
