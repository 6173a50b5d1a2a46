from django.apps import AppConfig


class GovsocialConfig(AppConfig):
    name = "govsocial"
    verbose_name = "GovSocial"
