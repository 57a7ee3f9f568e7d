"""The service dependency graph, read once per call: which services a service relies on
(upstream, transitively) and which rely on it (downstream)."""

from __future__ import annotations

from collections.abc import Iterable

from plans.models import ERPService


class DependencyGraph:
    def __init__(self) -> None:
        self.depends_on: dict[int, set[int]] = {}
        self.dependents: dict[int, set[int]] = {}
        through = ERPService.depends_on.through
        for from_id, to_id in through.objects.values_list("from_erpservice_id", "to_erpservice_id"):
            self.depends_on.setdefault(from_id, set()).add(to_id)
            self.dependents.setdefault(to_id, set()).add(from_id)

    @staticmethod
    def _closure(start: Iterable[int], edges: dict[int, set[int]]) -> set[int]:
        seen = set(start)
        stack = list(seen)
        while stack:
            for nxt in edges.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

    def upstream(self, ids: Iterable[int]) -> set[int]:
        """The services themselves and everything they depend on, transitively."""
        return self._closure(ids, self.depends_on)

    def downstream(self, ids: Iterable[int]) -> set[int]:
        """The services themselves and everything depending on them, transitively."""
        return self._closure(ids, self.dependents)
