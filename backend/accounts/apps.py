from django.apps import AppConfig
from django.core import checks


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and regions"

    def ready(self) -> None:
        from fieldline.checks import shared_cache_check

        # The login brake lives in the cache: it must be one for every app server.
        checks.register(shared_cache_check, checks.Tags.caches, deploy=True)
