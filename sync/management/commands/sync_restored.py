"""Run once right after restoring a database backup: phones past the backup must resync."""

from django.core.management.base import BaseCommand

from sync.pull import restart_epoch_after_restore


class Command(BaseCommand):
    help = (
        "After restoring a backup: start a new sync epoch. Cursors past the backup answer "
        "410 resync; cursors the backup covers keep working. Run it once per restore, "
        "before the app serves phones again."
    )

    def handle(self, *args, **options) -> None:
        point, epoch = restart_epoch_after_restore()
        if point is None:
            self.stdout.write(
                f"new sync epoch {epoch}; positions renumbered for this cluster: "
                "every phone resyncs"
            )
            return
        self.stdout.write(
            f"new sync epoch {epoch}; cursors of epoch {point.epoch} up to position "
            f"{point.seq} (the backup's last) keep working, later ones answer 410 resync"
        )
