from datetime import timedelta

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "kefu.core"
    label = "core"
    verbose_name = "kefu core"

    def ready(self) -> None:
        import kefu.core.health  # noqa: F401  (registers core's readiness checks)
        from kefu.core.jobs import job_prune_results, job_register

        job_register(
            name="core.prune_job_results", every=timedelta(hours=1), func=job_prune_results
        )
