"""Read side of the risk register: filtered lists and the heat map."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Level, Risk, level_for_score


def risk_list(*, filters: dict | None = None) -> QuerySet[Risk]:
    qs = Risk.objects.select_related("owner").prefetch_related("services")
    return qs


def heat_map(queryset: QuerySet[Risk] | None = None, *, residual: bool = False) -> list[dict]:
    """5×5 grid, impact across and likelihood down (5 at the top), with a count per cell.

    One GROUP BY query; cells with no risk are filled in here."""
    queryset = queryset if queryset is not None else Risk.objects.all()
    lk, im = ("residual_likelihood", "residual_impact") if residual else ("likelihood", "impact")
    counts = {(r[lk], r[im]): r["n"] for r in queryset.order_by().values(lk, im).annotate(n=Count("id"))}
    rows = []
    for likelihood in range(5, 0, -1):
        cells = []
        for impact in range(1, 6):
            score = likelihood * impact
            cells.append(
                {
                    "likelihood": likelihood,
                    "impact": impact,
                    "score": score,
                    "level": level_for_score(score),
                    "count": counts.get((likelihood, impact), 0),
                }
            )
        rows.append({"likelihood": likelihood, "cells": cells})
    return rows


def level_counts(queryset: QuerySet[Risk] | None = None) -> dict[str, int]:
    queryset = queryset if queryset is not None else Risk.objects.all()
    counts = dict(queryset.order_by().values_list("level").annotate(n=Count("id")))
    return {level: counts.get(level, 0) for level in Level.values}


def risks_due_for_review(*, days: int = 30) -> QuerySet[Risk]:
    return Risk.objects.review_due_within(days).select_related("owner").order_by("next_review_date", "-residual_score")
