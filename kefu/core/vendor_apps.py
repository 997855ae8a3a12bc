"""Third-party apps under Chinese names in the admin (their own AppConfig otherwise shows
"AXES" or "TASKS DATABASE BACKEND"). Each keeps its package's ready(); only the name shown
changes. INSTALLED_APPS names these classes instead of the packages."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django_tasks_db.apps import TasksAppConfig


class LoginProtectionConfig(AxesAppConfig):
    verbose_name = "登录保护 / login protection"


class TaskQueueConfig(TasksAppConfig):
    verbose_name = "后台任务 / background tasks"
