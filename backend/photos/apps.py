from django.apps import AppConfig


class PhotosConfig(AppConfig):
    """Photos' behaviour: bytes and uploads, thumbnails, reuse flags, the HTTP API. The
    models (Photo, PhotoThumbnail) stay in the surveys app, with its label and migrations:
    visits' fraud rules read them and photos' reuse flags read visits, so the models sit
    below both and this app above them."""

    name = "photos"

    def ready(self) -> None:
        from photos import syncing  # noqa: F401  (registers the entity)
