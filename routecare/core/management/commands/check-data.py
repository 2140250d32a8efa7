from itertools import groupby
from typing import Any

from django.core.management.base import BaseCommand

from routecare.audit.actions import record_system_event
from routecare.core import data_check


class Command(BaseCommand):
    help = (
        "List stored records that break the field rules (control characters, lengths, date "
        "windows, language codes), per National Society: table, field, record id and rule, "
        "never the value. Changes nothing."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        found = data_check.run()
        # It decrypts every sensitive field to check it (and shows none): the audit says so.
        record_system_event(
            "read", "stored_records", detail=f"check-data: {len(found)} values break the rules"
        )
        for owner, group in groupby(found, key=lambda finding: finding.owner):
            records = list(group)
            self.stdout.write(f"{owner}: {len(records)}")
            for finding in records:
                place = f"{finding.table}.{finding.field}"
                self.stdout.write(f"  {place:<44} {finding.record_id}  {finding.rule}")
        if found:
            self.stdout.write(
                f"{len(found)} stored values break the rules. Nothing was changed: correct them "
                "through the pages or the API."
            )
        else:
            self.stdout.write("No stored value breaks the rules.")
