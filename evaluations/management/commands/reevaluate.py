from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q
from django.utils import timezone

from arcweb.models import Organisation
from evaluations.engine import ENGINE_VERSION
from evaluations.models import Evaluation, EvaluationStatus
from evaluations.tasks import wake

CHUNK = 1000


class Command(BaseCommand):
    help = ("Evaluate runs again after an engine upgrade: those evaluated by another engine version "
            "(or all with --all). Rollups and patterns are corrected as the runs are re-evaluated.")

    def add_arguments(self, parser):
        parser.add_argument("--org", help="Only this organisation (slug)")
        parser.add_argument("--all", action="store_true", help="Also runs already on the current engine version")

    def handle(self, org=None, all=False, **options):
        evaluations = Evaluation.objects.exclude(status=EvaluationStatus.PENDING)
        if org:
            organisation = Organisation.objects.filter(slug=org).first()
            if organisation is None:
                raise CommandError(f"no organisation {org!r}")
            evaluations = Evaluation.objects.for_org(organisation).exclude(status=EvaluationStatus.PENDING)
        if not all:
            evaluations = evaluations.filter(~Q(engine_version=ENGINE_VERSION))
        ids = list(evaluations.values_list("pk", flat=True))
        for start in range(0, len(ids), CHUNK):  # short transactions: ingestion and workers go on meanwhile
            Evaluation.objects.filter(pk__in=ids[start:start + CHUNK]).update(
                status=EvaluationStatus.PENDING, enqueued_at=timezone.now())
            wake()
        self.stdout.write(f"{len(ids)} runs queued for evaluation by engine {ENGINE_VERSION}")
