from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out


class AccountsConfig(AppConfig):
    name = "kefu.accounts"
    label = "accounts"
    verbose_name = "账号与权限 / accounts"

    def ready(self) -> None:
        # The receivers use the services, which need the models: importable once apps load.
        from kefu.accounts.receivers import logged_out

        user_logged_out.connect(logged_out, dispatch_uid="kefu.accounts.live_pages")
