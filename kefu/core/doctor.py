"""``kefu doctor``: what is wrong with this deployment, and how to fix it.

Each check looks at one thing and returns findings: a *problem* (something is wrong;
``kefu doctor`` exits 1) or a *note* (worth knowing, nothing to fix now: a check skipped,
a year's holidays not published yet). ``core`` registers its own checks
(:mod:`kefu.core.doctor_checks`); apps add theirs in their ``AppConfig.ready()`` with
:func:`doctor_register` (``core`` names no app).

This module imports nothing that needs Django set up: ``kefu doctor`` also explains
settings that stop kefu from starting at all (:func:`settings_findings`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    PROBLEM = "problem"
    NOTE = "note"


_TAGS = {Severity.PROBLEM: "问题 / problem", Severity.NOTE: "说明 / note"}


@dataclass(frozen=True, kw_only=True)
class Finding:
    check: str
    # What is wrong, "中文 / English"; and what to do about it, the same way.
    problem: str
    fix: str = ""
    severity: Severity = Severity.PROBLEM

    def line(self) -> str:
        fix = f" → 处理 / fix: {self.fix}" if self.fix else ""
        return f"[{_TAGS[self.severity]}] {self.check}: {self.problem}{fix}"


def problem(check: str, what: str, fix: str) -> Finding:
    return Finding(check=check, problem=what, fix=fix)


def note(check: str, what: str, fix: str = "") -> Finding:
    return Finding(check=check, problem=what, fix=fix, severity=Severity.NOTE)


CheckFunc = Callable[[], Iterable[Finding]]


@dataclass(frozen=True, kw_only=True)
class DoctorCheck:
    name: str
    func: CheckFunc
    # Skipped (with a note) once a gate check has found a problem.
    needs_database: bool = True
    # The database and its migrations: a problem here skips every later check that needs
    # the database (they would only fail the same way).
    gate: bool = False


_registry: dict[str, DoctorCheck] = {}


def doctor_register(
    *, name: str, func: CheckFunc, needs_database: bool = True, gate: bool = False
) -> DoctorCheck:
    """Add a check. Registering the same name again replaces it."""
    check = DoctorCheck(name=name, func=func, needs_database=needs_database, gate=gate)
    _registry[name] = check
    return check


def doctor_unregister(name: str) -> None:
    _registry.pop(name, None)


def doctor_checks() -> list[DoctorCheck]:
    """Every registered check, in the order registered (core's own first)."""
    return list(_registry.values())


_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)


def _error_text(exc: Exception) -> str:
    """An exception in one line, without connection strings."""
    return " ".join(f"{type(exc).__name__}: {_URL.sub('<url>', str(exc))}".split())[:300]


def doctor_run(checks: Iterable[DoctorCheck] | None = None) -> list[Finding]:
    """Run the checks in order. A check that raises is itself a problem (named with its
    error), so one broken check never hides what the others find."""
    findings: list[Finding] = []
    blocked_by = ""
    for check in doctor_checks() if checks is None else checks:
        if check.needs_database and blocked_by:
            skipped = f"先解决 {blocked_by} 的问题，跳过 / skipped until {blocked_by} is fixed"
            findings.append(note(check.name, skipped))
            continue
        try:
            found = list(check.func())
        except Exception as exc:
            found = [
                problem(
                    check.name,
                    f"检查本身出错 / the check itself failed: {_error_text(exc)}",
                    "查看上面的错误并修复后重新运行 kefu doctor / "
                    "fix the error above and run kefu doctor again",
                )
            ]
        findings.extend(found)
        if check.gate and not blocked_by and any(f.severity == Severity.PROBLEM for f in found):
            blocked_by = check.name
    return findings


NO_PROBLEMS = "没有发现问题 / no problems found"


def doctor_report(findings: list[Finding]) -> tuple[bool, list[str]]:
    """``(healthy, lines)``: one line per finding, problems first, then the summary."""
    ordered = sorted(findings, key=lambda f: f.severity != Severity.PROBLEM)
    problems = sum(1 for f in findings if f.severity == Severity.PROBLEM)
    lines = [f.line() for f in ordered]
    lines.append(NO_PROBLEMS if not problems else f"发现 {problems} 个问题 / {problems} problem(s)")
    return problems == 0, lines


# Settings that stop kefu from starting, by the name their error mentions, with the fix.
_SETTINGS_FIXES = (
    (
        "SECRET_KEY",
        "在环境中设置随机的 SECRET_KEY（至少 50 个字符，例如 python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(50))' 的输出）/ set a random SECRET_KEY of 50 or more "
        "characters in the environment",
    ),
    (
        "KEFU_FIELD_KEYS",
        "用 kefu encryption generate-key 生成 KEFU_FIELD_KEYS、用 kefu encryption generate-key "
        "--index 生成 KEFU_INDEX_KEY，写入服务的环境；已有数据时必须用原来的密钥 / set "
        "KEFU_FIELD_KEYS and KEFU_INDEX_KEY in the service's environment (new ones from kefu "
        "encryption generate-key [--index]; with existing data, the keys it was written with)",
    ),
    (
        "KEFU_TRUSTED_PROXIES",
        "KEFU_TRUSTED_PROXIES 写成逗号分隔的地址或网段 / comma-separated addresses or networks",
    ),
    (
        "KEFU_METRICS_ALLOW",
        "KEFU_METRICS_ALLOW 写成逗号分隔的地址或网段 / comma-separated addresses or networks",
    ),
    (
        "KEFU_LOG_FORMAT",
        "KEFU_LOG_FORMAT 只能是 text 或 json / text or json",
    ),
)


def settings_findings(error: Exception) -> list[Finding]:
    """The finding for settings that stop kefu from starting (``ImproperlyConfigured``)."""
    message = str(error)
    for name, fix in _SETTINGS_FIXES:
        if name in message:
            return [problem("settings", message, fix)]
    return [
        problem(
            "settings",
            message,
            "按上面的说明修改环境变量（见 README 的设置表）/ correct the environment as the "
            "message says (README, settings table)",
        )
    ]
