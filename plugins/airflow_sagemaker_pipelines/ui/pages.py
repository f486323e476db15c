"""The HTML of the package's pages: self-contained (inline SVG and CSS, no script), shown in the Airflow UI's frame.

Every value is escaped; links stay inside the frame (the UI's sandbox allows no popups).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from .execution_view import ExecutionView, StepView
from .run_history import EndpointEvent, RunPoint

COLOURS = {"approved": "#1a7f37", "rejected": "#cf222e", "gate_failed": "#82071e", "not_promoted": "#6e7781",
           "unchanged": "#0969da", "failed": "#000000", None: "#bf8700", "deployed": "#1a7f37",
           "rolled_back": "#cf222e", "data_ok": "#1a7f37", "data_drift": "#cf222e", "not_checked": "#6e7781"}
STATUS_COLOURS = {"Succeeded": "#1a7f37", "Failed": "#cf222e", "Stopped": "#6e7781", "Executing": "#0969da",
                  "Starting": "#0969da", "Stopping": "#6e7781", "NotStarted": "#d0d7de"}
STYLE = """
body { font: 14px system-ui, sans-serif; margin: 16px; color: #1f2328; }
table { border-collapse: collapse; margin-top: 12px; } td, th { padding: 4px 8px; border-bottom: 1px solid #d0d7de;
text-align: left; } th { background: #f6f8fa; } .muted { color: #6e7781; } form * { margin-right: 8px; }
.legend span { margin-right: 12px; } pre { background: #f6f8fa; padding: 8px; overflow-x: auto; }
"""
OUTCOMES = ("approved", "rejected", "gate_failed", "not_promoted", "unchanged", "failed")


def page(title: str, body: str) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>{STYLE}</style>"
            f"</head><body><h2>{escape(title)}</h2>{body}</body></html>")


def index_page(pipelines: Sequence[tuple[str, str]], base: str) -> str:
    """The declared pipelines the user may read: (training DAG id, description)."""
    if not pipelines:
        return page("Model quality", "<p class='muted'>No pipeline you can read is declared.</p>")
    rows = "".join(f"<li><a href='{escape(base)}/dags/{quote(dag_id)}/model-quality'>{escape(dag_id)}</a> "
                   f"<span class='muted'>{escape(description)}</span></li>" for dag_id, description in pipelines)
    return page("Model quality", f"<ul>{rows}</ul>")


def model_quality_page(dag_id: str, metric: str, points: list[RunPoint], base: str, filters: dict[str, str],
                       deployments: Sequence[EndpointEvent] = (), monitoring: Sequence[EndpointEvent] = (),
                       now: datetime | None = None) -> str:
    form = _filters(filters)
    events = (endpoint_timeline(deployments, monitoring, now or datetime.now(UTC))
              + _events("Deployments", "Version", deployments)
              + _events("Data monitoring (the endpoint's requests)", "Checked against version", monitoring))
    if not points:
        return page(f"Model quality: {dag_id}", form + "<p class='muted'>No run in this range yet.</p>" + events)
    legend = "".join(f"<span style='color:{COLOURS[o]}'>● {o.replace('_', ' ')}</span>" for o in OUTCOMES)
    served = {event["model_package_version"]: event["outcome"] for event in deployments
              if event["outcome"] in ("deployed", "rolled_back")}
    return page(f"Model quality: {dag_id}", form + _chart(dag_id, metric, points, base, served)
                + f"<p class='legend'>{legend} <span class='muted'>— threshold, ┄ champion, ⋮ new champion, ◯ deployed, ✕ rolled back"
                f"</span></p>" + _table(dag_id, metric, points, base) + events)


def endpoint_timeline(deployments: Sequence[EndpointEvent], monitoring: Sequence[EndpointEvent], now: datetime,
                      width: int = 900) -> str:
    """The endpoint on a time axis of its own: a band per deployed version over the time it served, a cross at
    each rolled-back (red) or failed (black) deploy, and a square per monitored day coloured by its result."""
    def instant(text: str) -> datetime:
        moment = datetime.fromisoformat(text if "T" in text else f"{text}T12:00:00")
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    served = [(event, instant(event["served_from"]), instant(event["served_to"]) if event["served_to"] else now)
              for event in deployments if event["served_from"]]
    crosses = [(event, instant(event["ended"])) for event in deployments
               if event["outcome"] in ("rolled_back", "failed") and event["ended"]]
    days = [(event, instant(event["day"])) for event in monitoring if event["day"]]
    moments = [m for _, begin, end in served for m in (begin, end)] + [m for _, m in crosses] + [m for _, m in days]
    if not moments:
        return ""
    start, end = min(moments), max(moments)
    if end - start < timedelta(hours=1):
        start, end = start - timedelta(hours=12), end + timedelta(hours=12)
    left, right, height = 130, 20, 92

    def x(moment: datetime) -> float:
        return left + (width - left - right) * (moment - start) / (end - start)

    marks = ["<text x='4' y='27' font-size='12'>Version served</text>",
             "<text x='4' y='57' font-size='12'>Requests checked</text>"]
    for index, (event, begin, until) in enumerate(served):
        label = f"v{event['model_package_version']}"
        span = f"{label} served from {event['served_from'][:16]} to {(event['served_to'] or 'now')[:16]}"
        marks.append(f"<rect class='served' x='{x(begin):.1f}' y='14' width='{max(2.0, x(until) - x(begin)):.1f}' "
                     f"height='18' fill='{('#1a7f37', '#4ac26b')[index % 2]}'><title>{escape(span)}</title></rect>")
        if x(until) - x(begin) > 24:
            marks.append(f"<text x='{x(begin) + 4:.1f}' y='27' font-size='11' fill='#ffffff'>{escape(label)}</text>")
    for event, moment in crosses:
        what = f"v{event['model_package_version']} {event['outcome'].replace('_', ' ')} at {(event['ended'] or '')[:16]}"
        marks.append(f"<text class='{event['outcome'].replace('_', '-')}-deploy' x='{x(moment):.1f}' y='28' "
                     f"text-anchor='middle' fill='{COLOURS[event['outcome']]}'>✕<title>{escape(what)}</title></text>")
    for event, moment in days:
        what = f"{event['day']} {(event['outcome'] or 'running').replace('_', ' ')} {', '.join(event['drifted_features'])}"
        marks.append(f"<rect class='monitored-day' x='{x(moment) - 4:.1f}' y='46' width='8' height='12' "
                     f"fill='{COLOURS.get(event['outcome'], COLOURS[None])}'><title>{escape(what.strip())}</title></rect>")
    label = "%Y-%m-%d" if end - start > timedelta(days=2) else "%m-%d %H:%M"
    ticks = "".join(f"<text x='{x(start + (end - start) * i / 5):.1f}' y='{height - 8}' font-size='10' "
                    f"text-anchor='middle'>{(start + (end - start) * i / 5).strftime(label)}</text>" for i in range(6))
    return (f"<h3>Endpoint</h3><svg class='endpoint-timeline' width='{width}' height='{height}' role='img' "
            f"aria-label='versions served and monitored days over time'>{''.join(marks)}{ticks}</svg>")


def _events(title: str, version: str, events: Sequence[EndpointEvent]) -> str:
    if not events:
        return ""
    rows = "".join(
        f"<tr><td>{escape(event['day'] or '')}</td><td>{escape((event['ended'] or '')[:19])}</td>"
        f"<td>{event['model_package_version'] or ''}</td><td style='color:{COLOURS.get(event['outcome'], '#1f2328')}'>"
        f"{escape((event['outcome'] or 'running').replace('_', ' '))}</td>"
        f"<td>{escape(', '.join(event['drifted_features']))}</td><td class='muted'>{escape(event['run_id'])}</td></tr>"
        for event in reversed(events))
    return (f"<h3>{escape(title)}</h3><table class='events'><tr><th>Day</th><th>Ended</th><th>{escape(version)}</th>"
            f"<th>Outcome</th><th>Drifted</th><th>Run</th></tr>{rows}</table>")


def _filters(filters: dict[str, str]) -> str:
    options = "".join(f"<option value='{o}'{' selected' if filters.get('outcome') == o else ''}>{o.replace('_', ' ')}"
                      f"</option>" for o in OUTCOMES)
    return ("<form method='get'>"
            f"From <input type='date' name='from' value='{escape(filters.get('from', ''))}'>"
            f"To <input type='date' name='to' value='{escape(filters.get('to', ''))}'>"
            f"Decision <select name='outcome'><option value=''>any</option>{options}</select>"
            "<button type='submit'>Show</button></form>")


def _chart(dag_id: str, metric: str, points: list[RunPoint], base: str, served: dict[int | None, str | None],
           width: int = 900, height: int = 260) -> str:
    values = [v for p in points for v in (p["value"], p["threshold"], p["champion_value"]) if v is not None]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high - low < 1e-9:
        low, high = low - 0.5, high + 0.5
    pad = (high - low) * 0.1
    low, high = low - pad, high + pad
    left, right, top, bottom = 50, 10, 10, 30
    count = len(points)

    def x(index: int) -> float:
        return left + (width - left - right) * (index + 0.5) / count

    def y(value: float) -> float:
        return top + (height - top - bottom) * (high - value) / (high - low)

    def line(key: str, style: str) -> str:
        coords = " ".join(f"{x(i):.1f},{y(p[key]):.1f}" for i, p in enumerate(points) if p[key] is not None)  # type: ignore[literal-required]
        return f"<polyline fill='none' {style} points='{coords}'/>" if coords else ""

    marks = []
    for index, point in enumerate(points):
        if point["value"] is None:
            continue
        href = f"{base}/dags/{quote(dag_id)}/runs/{quote(point['run_id'], safe='')}/execution"
        if point["outcome"] == "approved":  # the champion changes here: a line through the day
            marks.append(f"<line class='champion-change' x1='{x(index):.1f}' x2='{x(index):.1f}' y1='{top}' "
                         f"y2='{height - bottom}' stroke='{COLOURS['approved']}' stroke-dasharray='2 4'/>")
        deployed = served.get(point["model_package_version"]) if point["model_package_version"] else None
        if deployed == "deployed":
            marks.append(f"<circle class='deployed' cx='{x(index):.1f}' cy='{y(point['value']):.1f}' r='9' "
                         f"fill='none' stroke='{COLOURS['deployed']}' stroke-width='2'/>")
        elif deployed == "rolled_back":
            marks.append(f"<text class='rolled-back' x='{x(index):.1f}' y='{y(point['value']) - 9:.1f}' "
                         f"text-anchor='middle' fill='{COLOURS['rolled_back']}'>✕</text>")
        marks.append(f"<a href='{escape(href)}' class='point'><circle cx='{x(index):.1f}' cy='{y(point['value']):.1f}' "
                     f"r='5' fill='{COLOURS.get(point['outcome'], COLOURS[None])}'><title>{escape(point['data_day'] or '')}"
                     f" {metric.upper()} {point['value']:.4f} {escape(point['outcome'] or 'running')}</title></circle></a>")
    axis = "".join(f"<text x='4' y='{y(v) + 4:.1f}' font-size='11'>{v:.3g}</text>"
                   for v in (low + pad, (low + high) / 2, high - pad))
    days = "".join(f"<text x='{x(i):.1f}' y='{height - 8}' font-size='10' text-anchor='middle'>{escape(p['data_day'] or '')}"
                   f"</text>" for i, p in enumerate(points) if count <= 12 or i % max(1, count // 12) == 0)
    lines = (line("threshold", 'stroke="#cf222e" stroke-width="1"')
             + line("champion_value", 'stroke="#0969da" stroke-dasharray="4 3"')
             + line("value", 'stroke="#1f2328" stroke-width="1.5"'))
    return (f"<svg width='{width}' height='{height}' role='img' aria-label='{escape(metric.upper())} per data day'>"
            f"{axis}{days}{lines}{''.join(marks)}</svg>")


def _table(dag_id: str, metric: str, points: list[RunPoint], base: str) -> str:
    rows = []
    for point in reversed(points):
        run = f"{base}/dags/{quote(dag_id)}/runs/{quote(point['run_id'], safe='')}/execution"
        console = f"<a href='{escape(point['console_url'])}'>console</a>" if point["console_url"] else ""
        value = f"{point['value']:.4f}" if point["value"] is not None else ""
        duration = f"{point['duration_seconds'] / 60:.1f} min" if point["duration_seconds"] is not None else ""
        drift = escape(", ".join(point["drifted_features"]))
        rows.append(f"<tr><td><a href='{escape(run)}'>{escape(point['run_id'])}</a></td><td>{escape(point['data_day'] or '')}"
                    f"</td><td>{escape(point['execution_status'] or '')}</td><td>{value}</td>"
                    f"<td style='color:{COLOURS.get(point['outcome'], COLOURS[None])}'>"
                    f"{escape((point['outcome'] or 'running').replace('_', ' '))}</td>"
                    f"<td>{point['model_package_version'] or ''}</td><td>{duration}</td><td>{drift}</td><td>{console}</td></tr>")
    return (f"<table><tr><th>Run</th><th>Day</th><th>Execution</th><th>{escape(metric.upper())}</th><th>Decision</th>"
            "<th>Package</th><th>Duration</th><th>Data drift</th><th></th></tr>" + "".join(rows) + "</table>")


def execution_page(dag_id: str, run_id: str, view: ExecutionView | None, metrics: dict[str, Any],
                   reason: str | None = None) -> str:
    title = f"SageMaker execution of {run_id}"
    if view is None:
        return page(title, f"<p class='muted'>{escape(reason or 'This run started no SageMaker execution.')}</p>")
    head = (f"<p>{escape(view['pipeline_name'])} · <b>{escape(view['status'])}</b> · "
            f"<span class='muted'>{escape(view['execution_arn'])}</span></p>")
    if view["failure_reason"]:
        head += f"<p style='color:#cf222e'>{escape(view['failure_reason'])}</p>"
    measured = "".join(f"<tr><td>{escape(name)}</td><td>{value:.4f}</td></tr>" if isinstance(value, float) else
                       f"<tr><td>{escape(name)}</td><td>{escape(str(value))}</td></tr>"
                       for name, value in sorted(metrics.items()))
    log = ""
    if view["failed_step_log"]:
        log = (f"<h3>Last log lines of {escape(view['failed_step'] or '')}</h3><pre>"
               + escape("\n".join(view["failed_step_log"])) + "</pre>")
    return page(title, head + "<h3>Steps</h3>" + _graph(view["steps"]) + "<h3>Timeline</h3>" + _gantt(view["steps"])
                + (f"<h3>Evaluation</h3><table>{measured}</table>" if measured else "") + log)


def _graph(steps: list[StepView]) -> str:
    """The steps in dependency order (each after what it waits for), a condition's branches marked taken or not."""
    level: dict[str, int] = {}
    names = {step["name"] for step in steps}
    for _ in steps:
        for step in steps:
            parents = [d for d in step["depends_on"] if d in names]
            if step["branch_of"]:
                parents.append(step["branch_of"])
            level[step["name"]] = 1 + max((level.get(p, 0) for p in parents), default=-1)
    rows = []
    for step in sorted(steps, key=lambda s: (level[s["name"]], s["name"])):
        branch = ""
        if step["branch_of"]:
            condition = next((s for s in steps if s["name"] == step["branch_of"]), None)
            taken = condition is not None and condition["condition_outcome"] is not None and \
                condition["condition_outcome"] == step["on_branch"]
            branch = (f"{'if' if step['on_branch'] else 'else'} branch of {escape(step['branch_of'])}"
                      + (" (taken)" if taken else " (not taken)"))
        if step["condition_outcome"] is not None:
            branch = f"took the {'if' if step['condition_outcome'] else 'else'} branch"
        after = escape(", ".join(d for d in step["depends_on"] if d in names))
        rows.append(f"<tr><td style='padding-left:{8 + 24 * level[step['name']]}px'>{escape(step['name'])}</td>"
                    f"<td>{escape(step['type'])}</td><td style='color:{STATUS_COLOURS.get(step['status'], '#1f2328')}'>"
                    f"{escape(step['status'])}</td><td class='muted'>{after}</td><td>{branch}</td>"
                    f"<td style='color:#cf222e'>{escape(step['failure_reason'] or '')}</td></tr>")
    return ("<table><tr><th>Step</th><th>Type</th><th>Status</th><th>After</th><th>Branch</th><th>Failure</th></tr>"
            + "".join(rows) + "</table>")


def _gantt(steps: list[StepView], width: int = 900) -> str:
    timed = [(step, datetime.fromisoformat(step["started"]), datetime.fromisoformat(step["ended"] or step["started"]))
             for step in steps if step["started"]]
    if not timed:
        return "<p class='muted'>No step has started.</p>"
    start = min(begin for _, begin, _ in timed)
    span = max((end - start).total_seconds() for _, _, end in timed) or 1.0
    label, row = 180, 22
    bars = []
    for index, (step, begin, end) in enumerate(sorted(timed, key=lambda item: item[1])):
        x0 = label + (width - label - 60) * (begin - start).total_seconds() / span
        bar = max(2.0, (width - label - 60) * (end - begin).total_seconds() / span)
        seconds = f"{step['seconds']:.1f} s" if step["seconds"] is not None else "running"
        bars.append(f"<text x='4' y='{index * row + 15}' font-size='12'>{escape(step['name'])}</text>"
                    f"<rect x='{x0:.1f}' y='{index * row + 4}' width='{bar:.1f}' height='14' "
                    f"fill='{STATUS_COLOURS.get(step['status'], '#1f2328')}'><title>{escape(step['name'])} {seconds}"
                    f"</title></rect><text x='{x0 + bar + 4:.1f}' y='{index * row + 15}' font-size='11'>{seconds}</text>")
    return (f"<svg width='{width}' height='{len(timed) * row + 8}' role='img' aria-label='step timeline'>"
            + "".join(bars) + "</svg>")

