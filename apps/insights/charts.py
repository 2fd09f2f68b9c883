"""Server-rendered SVG charts for the outcome report: no script, readable without colour alone.

Every figure drawn is also in the tables beside the chart; each chart has a
title and a description for screen readers.
"""

from __future__ import annotations

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext, pgettext

# Wagtail admin's palette, distinguishable for the common colour blindnesses; newest revision first.
SERIES_COLOURS = ["#007d7e", "#e05a00", "#5d3fd3", "#8a8a8a", "#b5179e", "#2e7d32"]
LABEL_WIDTH = 260
BAR_AREA = 420
ROW = 18
GAP = 10


def _percent(rate: float | None) -> str:
    return "–" if rate is None else f"{rate * 100:.0f}%"


def _svg(
    chart_id: str, title: str, description: str, width: int, height: int, body: SafeString
) -> SafeString:
    return format_html(
        '<svg class="insights-chart" id="{id}" role="img" aria-labelledby="{id}-title {id}-desc" '
        'viewBox="0 0 {w} {h}" width="{w}" height="{h}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>{body}</svg>',
        id=chart_id,
        w=width,
        h=height,
        title=title,
        desc=description,
        body=body,
    )


def legend(labels: list[str], *, y: int = 0) -> SafeString:
    return format_html_join(
        "",
        '<rect x="{}" y="{}" width="12" height="12" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="12" fill="#333">{}</text>',
        (
            (
                LABEL_WIDTH,
                y + i * 18,
                SERIES_COLOURS[i % len(SERIES_COLOURS)],
                LABEL_WIDTH + 18,
                y + i * 18 + 11,
                label,
            )
            for i, label in enumerate(labels)
        ),
    )


def grouped_bars(
    chart_id: str, title: str, groups: list[tuple[str, list[tuple[float | None, str]]]], series: list[str]
) -> SafeString:
    """Horizontal bars, one group per row label, one bar per series; each value a rate 0..1.

    ``groups`` is [(label, [(rate, words shown at the bar's end), ...]), ...].
    """
    series = [str(name) for name in series]  # messages, read in the editor's language
    parts = [legend(series)]
    y = len(series) * 18 + GAP
    groups = [(str(label), bars) for label, bars in groups]
    for label, bars in groups:
        group_top = y
        for i, (rate, words) in enumerate(bars):
            width = round(max(0.0, min(1.0, rate or 0.0)) * BAR_AREA, 1)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                    '<text x="{}" y="{}" font-size="11" fill="#333">{}</text>',
                    LABEL_WIDTH,
                    y,
                    width,
                    ROW - 4,
                    SERIES_COLOURS[i % len(SERIES_COLOURS)],
                    series[i] if i < len(series) else "",
                    words,
                    LABEL_WIDTH + width + 4,
                    y + ROW - 7,
                    words,
                )
            )
            y += ROW
        short = label if len(label) <= 40 else label[:39] + "…"
        parts.append(
            format_html(
                '<text x="0" y="{}" font-size="12" fill="#111"><title>{}</title>{}</text>',
                group_top + min(len(bars), 2) * ROW / 2 + 4,
                label,
                short,
            )
        )
        y += GAP
    # A list read aloud: each group's bars, one "series: figure" each (no sentence is cut apart).
    description = "; ".join(
        gettext("%(label)s: %(bars)s")
        % {
            "label": label,
            "bars": ", ".join(
                gettext("%(series)s %(figure)s")
                % {"series": series[i] if i < len(series) else "", "figure": words}
                for i, (_, words) in enumerate(bars)
            ),
        }
        for label, bars in groups
    )
    return _svg(chart_id, title, description, LABEL_WIDTH + BAR_AREA + 80, y + GAP, mark_safe("".join(parts)))


def daily_columns(
    chart_id: str, title: str, days: list, *, width: int = 760, height: int = 160
) -> SafeString:
    """One column per day: diagnoses, with the part that ended in a ticket drawn darker."""
    peak = max((d.diagnoses for d in days), default=0) or 1
    step = width / max(len(days), 1)
    plot = height - 30
    parts = [
        format_html(
            '<text x="0" y="12" font-size="11" fill="#333">{}</text>'
            '<line x1="0" x2="{}" y1="{}" y2="{}" stroke="#999"></line>'
            '<rect x="{}" y="2" width="10" height="10" fill="#007d7e"></rect>'
            '<text x="{}" y="11" font-size="11" fill="#333">{}</text>'
            '<rect x="{}" y="2" width="10" height="10" fill="#e05a00"></rect>'
            '<text x="{}" y="11" font-size="11" fill="#333">{}</text>',
            ngettext("%(count)s diagnosis", "%(count)s diagnoses", peak) % {"count": peak},
            width,
            plot + 16,
            plot + 16,
            width - 210,
            width - 196,
            pgettext("chart legend", "diagnoses"),
            width - 120,
            width - 106,
            pgettext("chart legend", "ended in a ticket"),
        )
    ]
    for i, day in enumerate(days):
        total = plot * day.diagnoses / peak
        tickets = plot * day.tickets / peak
        x = round(i * step + step * 0.1, 1)
        w = round(max(step * 0.8, 1), 1)
        parts.append(
            format_html(
                "<g><title>{}</title>"
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#007d7e"></rect>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#e05a00"></rect></g>',
                ngettext(
                    "%(day)s: %(count)s diagnosis, %(tickets)s ended in a ticket",
                    "%(day)s: %(count)s diagnoses, %(tickets)s ended in a ticket",
                    day.diagnoses,
                )
                % {"day": date_format(day.day), "count": day.diagnoses, "tickets": day.tickets},
                x,
                round(plot + 16 - total, 1),
                w,
                round(total, 1),
                x,
                round(plot + 16 - tickets, 1),
                w,
                round(tickets, 1),
            )
        )
    if days:
        parts.append(
            format_html(
                '<text x="0" y="{}" font-size="11" fill="#333">{}</text>'
                '<text x="{}" y="{}" font-size="11" fill="#333" text-anchor="end">{}</text>',
                height - 2,
                date_format(days[0].day, "SHORT_DATE_FORMAT"),
                width,
                height - 2,
                date_format(days[-1].day, "SHORT_DATE_FORMAT"),
            )
        )
    diagnoses = sum(d.diagnoses for d in days)
    description = ngettext(
        "%(count)s diagnosis over %(days)s days, %(tickets)s ended in a ticket.",
        "%(count)s diagnoses over %(days)s days, %(tickets)s ended in a ticket.",
        diagnoses,
    ) % {"count": diagnoses, "days": len(days), "tickets": sum(d.tickets for d in days)}
    return _svg(chart_id, title, description, width, height, mark_safe("".join(parts)))


def outcome_charts(report) -> dict[str, SafeString]:
    """The report's charts: the cause and couldn't-check rate of each step by revision, fixes, days."""
    revisions = report.revisions
    series = [r.label for r in revisions]
    steps = report.total.step_list
    cause_groups, unknown_groups = [], []
    for step in steps:
        cause_bars, unknown_bars = [], []
        for revision in revisions:
            figures = revision.steps.get(step.block_id)
            cause = figures.cause_rate if figures else None
            unknown = figures.unknown_rate if figures else None
            cause_bars.append((cause, f"{_percent(cause)} ({figures.cause if figures else 0})"))
            unknown_bars.append((unknown, f"{_percent(unknown)} ({figures.unknown if figures else 0})"))
        cause_groups.append((step.label, cause_bars))
        unknown_groups.append((step.label, unknown_bars))
    fix_groups = []
    for step, fix in report.total.fixes:
        applied, imported = fix.applied_rate, _ratio(fix.imported, fix.offered)
        fix_groups.append(
            (
                gettext("Step %(number)s: %(fix)s")
                % {"number": step.number or "?", "fix": fix.label or fix.key},
                [
                    (1.0 if fix.offered else 0.0, gettext("offered %(count)s") % {"count": fix.offered}),
                    (
                        applied,
                        gettext("applied %(count)s (%(rate)s)")
                        % {"count": fix.applied, "rate": _percent(applied)},
                    ),
                    (
                        imported,
                        gettext("order imported %(count)s (%(rate)s of applied)")
                        % {"count": fix.imported, "rate": _percent(fix.imported_rate)},
                    ),
                ],
            )
        )
    return {
        "cause": grouped_bars(
            "chart-cause",
            gettext("How often each step was the most likely cause, by revision"),
            cause_groups,
            series,
        ),
        "unknown": grouped_bars(
            "chart-unknown",
            gettext("How often each step couldn't be checked, by revision"),
            unknown_groups,
            series,
        ),
        "fixes": grouped_bars(
            "chart-fixes",
            gettext("Fixes: offered, applied, order imported within a day"),
            fix_groups,
            [gettext("Offered"), gettext("Applied"), gettext("Order imported")],
        ),
        "days": daily_columns(
            "chart-days", gettext("Diagnoses per day, and those that ended in a ticket"), report.days
        ),
    }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None
