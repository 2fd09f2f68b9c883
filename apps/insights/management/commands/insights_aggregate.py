from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from apps.insights.services import insights_aggregate_days


class Command(BaseCommand):
    help = "Count the diagnoses of the last N days into the outcome report's daily tables."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90)

    def handle(self, *args, days, **options):
        today = timezone.now().date()
        counted = insights_aggregate_days(today - timedelta(days=n) for n in range(days - 1, -1, -1))
        self.stdout.write(f"Counted {counted} diagnoses over {days} days.")
