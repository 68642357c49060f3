from django.apps import AppConfig
from django.core import checks as django_checks


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and regions"

    def ready(self) -> None:
        from accounts import checks, signals  # noqa: F401  (registers them)
        from fieldline.checks import shared_cache_check

        # The login brake lives in the cache: it must be one for every app server.
        django_checks.register(shared_cache_check, django_checks.Tags.caches, deploy=True)
