from django.apps import AppConfig


class StoresConfig(AppConfig):
    name = "stores"

    def ready(self) -> None:
        from stores import syncing  # noqa: F401  (registers the entity)
