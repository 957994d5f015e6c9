"""Writing the impact report: one CSV file per table of `bot.report.stats.TABLES` and
`report.html`, a single page with inline CSS and SVG charts (nothing fetched from the
network: it opens offline and can be mailed as it is)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from bot.report import labels
from bot.report.stats import TABLES, Period, Report, build_report, to_csv

TEMPLATES = Path(__file__).resolve().parent / "templates"
DASHBOARD_TEMPLATES = TEMPLATES.parent.parent / "dashboard" / "templates"
CSS = DASHBOARD_TEMPLATES.parent / "static" / "dashboard.css"
REPORT_FILES = (*(f"{name}.csv" for name in TABLES), "report.html")


def _environment() -> Environment:
    # The dashboard's templates come second: the chart macro (_charts.html) is shared.
    loader = ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(DASHBOARD_TEMPLATES)])
    return Environment(loader=loader, autoescape=select_autoescape(["html"]))


def render_html(report: Report, *, generated_at: datetime | None = None) -> str:
    """The report as one HTML page (the dashboard's stylesheet inlined)."""
    generated_at = generated_at or datetime.now(timezone.utc)
    tables = {name: build(report) for name, build in TABLES.items()}
    return (
        _environment()
        .get_template("report.html")
        .render(
            report=report,
            tables=tables,
            labels=labels,
            css=CSS.read_text(encoding="utf-8"),
            generated_at=generated_at.strftime("%d/%m/%Y %H:%M UTC"),
        )
    )


def write_report(session: Session, period: Period, out_dir: Path) -> tuple[Report, list[Path]]:
    """Compute the period's figures and write them into `out_dir` (created if needed)."""
    report = build_report(session, period=period)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, build in TABLES.items():
        path = out_dir / f"{name}.csv"
        # BOM: spreadsheet programs then read the UTF-8 (Arabic labels, accents) correctly.
        path.write_text(to_csv(build(report)), encoding="utf-8-sig")
        written.append(path)
    html = out_dir / "report.html"
    html.write_text(render_html(report), encoding="utf-8")
    written.append(html)
    return report, written
