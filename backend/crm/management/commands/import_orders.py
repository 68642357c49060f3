"""`manage.py import_orders FILE`: the orders CSV import of `POST /api/imports/orders`."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from crm.orders.imports import OrderFileError
from crm.orders.services import orders_import


class Command(BaseCommand):
    help = (
        "Import order lines from a CSV file (order_id, store_id or store_phone, order_date, "
        "sku, quantity, amount). Orders already imported are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path of the CSV file (UTF-8).")

    def handle(self, *args, **options) -> None:
        try:
            with (
                open(options["file"], encoding="utf-8-sig", newline="") as csv_text,
                # disable=None: no bar when the output is not a terminal.
                tqdm(unit="row", desc="orders", disable=None) as bar,
            ):
                report = orders_import(csv_text=csv_text, on_progress=bar.update)
        except OSError as error:
            raise CommandError(f"Cannot read {options['file']}: {error}") from error
        except OrderFileError as error:
            raise CommandError(str(error)) from error
        for row in report.rejected:
            self.stdout.write(f"line {row.line}: {'; '.join(row.reasons)}")
        self.stdout.write(
            f"rows read {report.rows_read}, rejected {report.rows_rejected}; "
            f"orders created {report.orders_created} ({report.lines_created} lines), "
            f"skipped as already imported {report.orders_skipped}"
        )
