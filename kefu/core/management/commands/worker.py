from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand


class Command(DatabaseWorkerCommand):
    help = (
        "运行后台任务进程 / Run a background task worker (database backend; run several on "
        "PostgreSQL, they share the queue with SKIP LOCKED)."
    )
