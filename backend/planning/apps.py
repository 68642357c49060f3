from django.apps import AppConfig


class PlanningConfig(AppConfig):
    name = "planning"

    def ready(self) -> None:
        from planning.keeping import install

        # Store and task writes (stores, tasks sit below planning) keep the plan true.
        install()
