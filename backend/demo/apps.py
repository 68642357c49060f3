from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set and its `seed_demo` command: it writes through every domain's
    services, so it sits above them all and nothing imports it."""

    name = "demo"
