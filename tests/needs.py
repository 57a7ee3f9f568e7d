"""What a test needs from the machine (PostgreSQL, Redis, a binary, Chromium), in one place.

On a bare developer machine a missing service skips the test; under CI=true it is a failure,
never a skip: CI must run every test."""

from __future__ import annotations

import os
import shutil

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip the test for `reason`, or fail it under CI=true."""
    if in_ci():
        pytest.fail(f"{reason} — CI must run this test.")
    pytest.skip(reason)


def binary(name: str, package: str | None = None) -> str:
    """The path of a program the test runs (unavailable() when it is not installed)."""
    path = shutil.which(name)
    if path is None:
        unavailable(f"needs {name} (apt-get install {package or name})")
    return path
