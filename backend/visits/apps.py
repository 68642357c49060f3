from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"

    def ready(self) -> None:
        from visits import syncing  # noqa: F401  (registers the entities)
