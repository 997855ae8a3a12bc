"""Alibaba Cloud SMS (短信服务, Dysms): the ``SendSms`` action of API version 2017-05-25.

The request is an RPC-style GET to the endpoint (``settings.KEFU_SMS_ALIYUN_ENDPOINT``,
``https://dysmsapi.aliyuncs.com/``) signed as the provider documents (signature version
1.0): every parameter, common and the action's, percent-encoded (RFC 3986: only
``A-Z a-z 0-9 - _ . ~`` stay as they are, a space is ``%20``), sorted by name and joined as
``name=value`` with ``&``; the string to sign is ``GET&%2F&`` followed by that query
percent-encoded once more; the signature is the Base64 of its HMAC-SHA1 under the access
key secret followed by ``&``.

The answer is JSON: ``{"Code": "OK", "BizId": …, "RequestId": …}`` when accepted, else the
provider's error code and message (``isv.MOBILE_NUMBER_ILLEGAL``,
``isv.BUSINESS_LIMIT_CONTROL`` …), which kefu records as the send's error. A timeout, a
connection refused, an answer of the 5xx range or a code that says "later" (flow control,
the provider's own fault) may pass on another try; anything else (a bad number, a template
or signature not approved, a wrong key) will not."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings

from kefu.sms.backends import Outgoing, SmsRefused

API_VERSION = "2017-05-25"

# Codes after which the same SMS may be accepted later.
RETRYABLE_CODES = frozenset(
    {
        "isp.SYSTEM_ERROR",
        "isv.BUSINESS_LIMIT_CONTROL",
        "isv.DAY_LIMIT_CONTROL",
        "Throttling",
        "Throttling.User",
        "ServiceUnavailable",
        "InternalError",
    }
)


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the signature wants it (``~`` kept, ``*`` and space encoded)."""
    return urllib.parse.quote(value, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    return f"{method}&{percent_encode('/')}&{percent_encode(query)}"


def signature(secret: str, method: str, params: Mapping[str, str]) -> str:
    digest = hmac.new(
        f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1
    ).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class AliyunBackend:
    access_key_id: str
    access_key_secret: str
    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    region: str = "cn-hangzhou"
    timeout: float = 10.0
    name: str = "aliyun"

    @classmethod
    def from_settings(cls) -> AliyunBackend:
        if not settings.KEFU_SMS_ALIYUN_KEY_ID or not settings.KEFU_SMS_ALIYUN_KEY_SECRET:
            raise ValueError(
                "KEFU_SMS_BACKEND=aliyun 需要 KEFU_SMS_ALIYUN_KEY_ID 和 KEFU_SMS_ALIYUN_KEY_SECRET"
            )
        return cls(
            access_key_id=settings.KEFU_SMS_ALIYUN_KEY_ID,
            access_key_secret=settings.KEFU_SMS_ALIYUN_KEY_SECRET,
            endpoint=settings.KEFU_SMS_ALIYUN_ENDPOINT,
            timeout=settings.KEFU_SMS_TIMEOUT,
        )

    def signed_params(self, sms: Outgoing, *, now: datetime | None = None) -> dict[str, str]:
        """Every parameter of the request, ``Signature`` included."""
        at = (now or datetime.now(UTC)).astimezone(UTC)
        params = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": sms.reference,
            "PhoneNumbers": sms.to,
            "RegionId": self.region,
            "SignName": sms.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": sms.template_code,
            "TemplateParam": json.dumps(dict(sms.params), ensure_ascii=False),
            "Timestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": API_VERSION,
        }
        params["Signature"] = signature(self.access_key_secret, "GET", params)
        return params

    def send(self, sms: Outgoing) -> str:
        query = "&".join(
            f"{percent_encode(k)}={percent_encode(v)}" for k, v in self.signed_params(sms).items()
        )
        url = f"{self.endpoint.rstrip('/')}/?{query}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            answer = _json(exc.read())
            code = str(answer.get("Code") or f"HTTP {exc.code}")
            raise SmsRefused(
                code,
                str(answer.get("Message") or exc.reason),
                retryable=exc.code >= 500 or code in RETRYABLE_CODES,
            ) from exc
        except TimeoutError as exc:
            raise SmsRefused(
                "timeout", f"no answer within {self.timeout:g} s", retryable=True
            ) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise SmsRefused(
                    "timeout", f"no answer within {self.timeout:g} s", retryable=True
                ) from exc
            raise SmsRefused("network", str(exc.reason), retryable=True) from exc
        answer = _json(body)
        code = str(answer.get("Code", ""))
        if code != "OK":
            raise SmsRefused(
                code or "invalid",
                str(answer.get("Message") or "unreadable answer"),
                retryable=code in RETRYABLE_CODES,
            )
        return str(answer.get("BizId", ""))


def _json(body: bytes) -> dict[str, object]:
    try:
        value = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
