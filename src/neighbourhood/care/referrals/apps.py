from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "neighbourhood.care.referrals"
    label = "referrals"
    verbose_name = "Referrals and the directory of services"
