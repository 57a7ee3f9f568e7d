"""Small helpers shared by the backup services: the alert source and the path check."""

from __future__ import annotations

import os

from ..models import BackupLocation

ALERT_SOURCE = "backups"


def _inside(location: BackupLocation, file_path: str) -> bool:
    base = os.path.realpath(location.path)
    return os.path.realpath(os.path.join(base, file_path)).startswith(base.rstrip(os.sep) + os.sep)
