from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and regions"

    def ready(self) -> None:
        from accounts import checks, signals  # noqa: F401  (registers them)
