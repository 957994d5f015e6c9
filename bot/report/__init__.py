"""The cell's figures: the statistics engine (`stats`: requests, waits, outcomes, people
heard, programmes, follow-up answers, with their charts and tables), the French labels of
stored codes (`labels`), and the impact report for a period (`bousla report`: CSV files and
one self-contained HTML page, `build`). The dashboard's statistics page uses the same
engine."""
