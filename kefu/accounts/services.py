from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.accounts.models import ApiToken, User


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token; returns it with the raw value, which is never stored or shown again."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请给令牌起个名字")})
    raw = ApiToken.new_raw()
    token = ApiToken.objects.create(
        user=user, name=name[:100], prefix=raw[:10], key_hash=ApiToken.hash(raw)
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=ApiToken.hash(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute: a busy integration must not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


@transaction.atomic
def user_set_language(*, user: User, language: str) -> User:
    if language not in {"zh-hans", "en"}:
        raise ValidationError({"language": _("不支持的语言")})
    user.language = language
    user.save(update_fields=["language"])
    return user
