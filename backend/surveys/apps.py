from django.apps import AppConfig


class SurveysConfig(AppConfig):
    name = "surveys"

    def ready(self) -> None:
        from surveys import syncing  # noqa: F401  (registers the entities)
        from surveys.template_feed import TEMPLATE_FEED
        from sync.feeds import register_feed

        register_feed(TEMPLATE_FEED)
