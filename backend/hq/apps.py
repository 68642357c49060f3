from django.apps import AppConfig


class HqConfig(AppConfig):
    """The server-rendered pages for managers and HQ under /hq/."""

    name = "hq"
    verbose_name = "HQ pages"
