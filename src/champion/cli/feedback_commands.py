"""`champion feedback`: actual values (ground truth) for logged predictions. The work is in
`champion.workspace.feedback`, which `POST /feedback` on the endpoint calls too."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from champion.cli import render
from champion.cli.app import app
from champion.cli.errors import handled
from champion.cli.options import JsonOpt, ProjectOpt, log_dir, workspace


@app.command()
def feedback(
    model: Annotated[str, typer.Argument(help="Model the actual values are for.")],
    data_file: Annotated[Path, typer.Argument(help="File with the actual values (CSV, TSV, Parquet).", metavar="FILE")],
    env: Annotated[str, typer.Option("--env", "-e", help="Environment whose predictions they are.")] = "production",
    project: ProjectOpt = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """Attach actual values (labels, or observed values) to logged predictions.

    The rows find their predictions by a request_id column (+ an optional row column: the row
    within the request), else by the model's id columns (a forecaster: its date column), else
    by its feature columns; the actual value is in the model's target column. Feedback for
    predictions not logged yet is kept and matches them later (pending). Any problem in the
    file names the file, row and column, exits with 2 and stores nothing.
    """
    with handled(as_json, lambda: log_dir(project)):
        from champion.workspace.feedback import add_feedback, read_feedback_file

        ws = workspace(project)
        name = ws.project.model_name(model)
        ws.project.environment(env)  # an unknown environment fails before the file is read
        items = read_feedback_file(ws.settings(name), data_file)
        report = add_feedback(ws, name, env, items, source=str(data_file))
        if as_json:
            render.print_json(report.as_dict())
            return
        render.console.print(
            f"{escape(str(data_file))}: {report.received} actual value(s) for {name} in {env} "
            f"(by {', '.join(report.matched_by)}): {report.matched} matched a logged prediction, "
            f"{report.pending} pending (they match once their predictions are logged)")
