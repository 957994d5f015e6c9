"""Impact report of the listening cell for a period (`bousla report`): CSV files and one
self-contained HTML page, with the figures of the dashboard's statistics page
(`bot.dashboard.stats`, their one home)."""

from bot.report.build import REPORT_FILES, write_report

__all__ = ["REPORT_FILES", "write_report"]
