from __future__ import annotations

import pytest
from django.utils import translation

from kefu.core.templatetags.duetime import duration_text


@pytest.mark.parametrize(
    ("seconds", "zh", "en"),
    [
        (0, "0秒", "0 s"),
        (40, "40秒", "40 s"),
        (60, "1分", "1 min"),
        (59 * 60 + 10, "59分10秒", "59 min 10 s"),
        (2 * 3600, "2小时", "2 h"),
        (2 * 3600 + 15 * 60 + 59, "2小时15分", "2 h 15 min"),
        (86400, "1天", "1 d"),
        (3 * 86400 + 5 * 3600 + 30 * 60, "3天5小时", "3 d 5 h"),
        (-2 * 3600, "2小时", "2 h"),
    ],
)
def test_duration_in_the_two_largest_units(seconds: int, zh: str, en: str) -> None:
    with translation.override("zh-hans"):
        assert duration_text(seconds) == zh
    with translation.override("en"):
        assert duration_text(seconds) == en
