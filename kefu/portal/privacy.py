"""The portal's part of a data subject's data (:mod:`kefu.privacy.parts`): the sign-in
codes and links sent to the customer's phones and addresses. Anonymising removes the phone
or address and its blind index; the rows stay (that someone signed in, and when)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from kefu.portal.models import SignInChallenge
from kefu.privacy.fields import email_index, phone_index
from kefu.privacy.parts import Part, Subject, Tally


def _of(subject: Subject) -> QuerySet[SignInChallenge]:
    if subject.customer is None:
        return SignInChallenge.objects.none()
    keys = set()
    for value in subject.identifiers:
        keys.add(email_index(value) if "@" in value else phone_index(value))
    keys.discard("")
    return SignInChallenge.objects.filter(client_id=subject.customer.client_id, key__in=keys)


def anonymise(subject: Subject, tally: Tally, write: bool) -> None:
    ids = list(_of(subject).values_list("pk", flat=True))
    for pk in ids:
        tally.add("portal_signin", pk)
    if write:
        SignInChallenge.objects.filter(pk__in=ids).update(value="", key="")


def count(subject: Subject) -> dict[str, int]:
    return {str(_("门户登录验证")): _of(subject).count()}


PART = Part(
    name="portal",
    order=46,
    anonymise=anonymise,
    count=count,
    kinds={"portal_signin": "门户登录验证（手机号或邮箱已删除）"},
)
