from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "tasks"

    def ready(self) -> None:
        from surveys.services import FixTasks, fix_tasks_install
        from tasks import syncing  # noqa: F401  (registers the entity)
        from tasks.services import review_fix_task_open, review_fix_tasks_close

        # Survey reviews open and close fix tasks through these (surveys sits below tasks).
        fix_tasks_install(FixTasks(open=review_fix_task_open, close=review_fix_tasks_close))
