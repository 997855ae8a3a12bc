from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The `kefu demo` command and the demo data set it loads (no models)."""

    name = "kefu.demo"
    label = "demo"
    verbose_name = "演示数据 / demo data"
