from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand


class Command(DatabaseWorkerCommand):
    help = (
        "运行后台任务进程 / Run a background task worker (database backend; run several on "
        "PostgreSQL, they share the queue with SKIP LOCKED)."
    )

    def configure_logging(self, verbosity: int) -> None:
        """kefu writes one line per task run itself (``kefu.task``, kefu/core/log.py) through
        ``settings.LOGGING``; django-tasks' own start and finish lines join them only when
        asked for with ``-v 2``."""
        if verbosity > 1:
            super().configure_logging(verbosity)
