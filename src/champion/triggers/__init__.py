"""Triggers and the agent: retrain on a schedule, when data arrives, when the monitor says so.

- `schedule`: cron schedules and intervals, remembered across restarts.
- `incoming`: new files in a model's incoming folder (taken once stable), and where they go.
- `monitor`: `champion monitor MODEL --json` as a process, and its alerts.
- `jobs`: one retraining as a `champion retrain` process, its outcome and its files.
- `queue`: at most one job running per model; triggers merged while queued.
- `lock`: one agent per project.
- `agent`: the loop.

Nothing here imports MLflow or runs a pipeline in the agent's process.
"""
