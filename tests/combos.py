"""The answer space both engines' tests walk: every supported combination, with readable ids."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

UPX_CYCLE = ("best", "lzma", "fast")  # each packed case takes the next level, so all are covered
CI_CYCLE = ("github", "gitlab", "none")  # each case takes the next CI provider, so all are covered


def combinations() -> list[dict[str, Any]]:
    """app_kind x runtime_base x upx x ca_certificates x tzdata x healthcheck, minus answers
    copier never asks (ca_certificates off a scratch base, healthcheck for a cli); the CI
    provider cycles through its choices (the CI files do not depend on the others)."""
    cases = []
    upx_levels = itertools.cycle(UPX_CYCLE)
    ci_providers = itertools.cycle(CI_CYCLE)
    for app_kind, runtime_base, upx, ca, tzdata, healthcheck in itertools.product(
        ("http", "cli"), ("scratch", "distroless", "alpine"), (False, True), (True, False),
        ("embedded", "none", "files"), (True, False),
    ):
        if runtime_base != "scratch" and not ca:
            continue  # distroless and alpine always carry the CA bundle
        if app_kind == "cli" and not healthcheck:
            continue  # asked only for http (a cli case keeps the default)
        answers: dict[str, Any] = {
            "project_name": f"Demo {app_kind} {runtime_base}",
            "app_kind": app_kind,
            "runtime_base": runtime_base,
            "upx": upx,
            "ca_certificates": ca,
            "tzdata": tzdata,
            "healthcheck": healthcheck,
            "ci_provider": next(ci_providers),
        }
        if upx:
            answers["upx_level"] = next(upx_levels)
        cases.append(answers)
    return cases


def case_id(answers: dict[str, Any]) -> str:
    """e.g. http-scratch-upx_lzma-ca-tz_embedded-hc-ci_github"""
    parts = [answers["app_kind"], answers["runtime_base"]]
    parts.append(f"upx_{answers['upx_level']}" if answers["upx"] else "noupx")
    if answers["runtime_base"] == "scratch":
        parts.append("ca" if answers["ca_certificates"] else "noca")
    parts.append(f"tz_{answers['tzdata']}")
    if answers["app_kind"] == "http":
        parts.append("hc" if answers["healthcheck"] else "nohc")
    parts.append(f"ci_{answers.get('ci_provider', 'github')}")
    return "-".join(parts)


def params() -> list[Any]:
    return [pytest.param(answers, id=case_id(answers)) for answers in combinations()]
