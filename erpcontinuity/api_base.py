"""Shared API building blocks."""

from __future__ import annotations

from collections.abc import Callable


class ServiceWritesMixin:
    """Route a viewset's writes through the app's service functions (never the serializer).

    `writes` is (create, update, delete); `write_key` is the keyword the update and delete
    services take for the object, e.g. `service_update(service=..., **fields)`."""

    writes: tuple[Callable | None, Callable | None, Callable | None] = (None, None, None)
    write_key: str = ""

    def perform_create(self, serializer):
        serializer.instance = self.writes[0](**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = self.writes[1](**{self.write_key: serializer.instance}, **serializer.validated_data)

    def perform_destroy(self, instance):
        self.writes[2](**{self.write_key: instance})
