"""`ingest`: validate new data files and add them to a model's dataset.

All files are validated, alone and together with the data already there, before anything
is stored; then they are copied into the project (content-addressed) and recorded in one
step. A failure leaves the dataset exactly as it was. On a shared registry each file is also
stored with it before it is recorded, so any machine of the team can train on it.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from champion.config import ModelSettings
from champion.data.dataset import assemble, declared_files
from champion.data.validation import ValidatedFile, identity_keys, read_data_file, refuse_links
from champion.errors import UsageError
from champion.pipelines.documents import IngestDocument
from champion.pipelines.progress import Progress, silent
from champion.state.store import IngestedFile, now
from champion.workspace import Workspace


@dataclass
class IngestedReport:
    """One file's outcome."""

    file: str
    status: str  # "added" or "already in the dataset"
    sha256: str
    rows: int
    stored_as: str | None = None
    duplicate_rows: list[dict[str, object]] = field(default_factory=list)


@dataclass
class IngestReport:
    model: str
    files: list[IngestedReport]
    rows_before: int
    rows_after: int

    def as_dict(self) -> dict[str, object]:
        return IngestDocument.checked({
            "model": self.model,
            "rows_before": self.rows_before,
            "rows_after": self.rows_after,
            "duplicates_skipped": sum(len(f.duplicate_rows) for f in self.files),
            "files": [{**vars(f), "duplicates_skipped": len(f.duplicate_rows)} for f in self.files],
        })


def ingest(ws: Workspace, model: str, files: list[Path], progress: Progress = silent) -> IngestReport:
    """Validate `files` and add the new ones to `model`'s dataset."""
    if not files:
        raise UsageError("name at least one file to ingest")
    settings = ws.settings(model)
    ws.recipe_class(model)  # configuration errors surface before any data work
    root = ws.project.root
    refuse_links([Path(f) for f in files])
    with progress.step(f"validating {len(files)} file(s)"):
        incoming = [read_data_file(Path(f), settings, model) for f in files]
    with ws.state.lock(f"data-{model}"):
        existing_paths = declared_files(root, model, settings) + ws.ingested_files(model)
        with progress.step("checking against the current dataset"):
            existing = [read_data_file(p, settings, model) for p in existing_paths]
            known = {f.sha256 for f in existing}
            seen: dict[str, str] = {}  # identity -> name of the file that first had it
            for other in existing:
                _remember(seen, other, settings)
            reports: list[IngestedReport] = []
            new: list[ValidatedFile] = []
            for file in incoming:
                if file.sha256 in known:
                    reports.append(IngestedReport(str(file.path), "already in the dataset", file.sha256, file.rows))
                    continue
                known.add(file.sha256)
                new.append(file)
                reports.append(IngestedReport(str(file.path), "added", file.sha256, file.rows,
                                              duplicate_rows=_duplicates(file, seen, settings)))
                _remember(seen, file, settings)
            before = assemble(existing, settings, root)
            after = assemble(existing + new, settings, root) if new else before
        if new:
            with progress.step(f"storing {len(new)} file(s)"):
                stored = _store(ws, model, new)
                for report, record in zip((r for r in reports if r.status == "added"), stored, strict=True):
                    report.stored_as = record.path
    return IngestReport(model, reports, before.rows, after.rows)


def _remember(seen: dict[str, str], file: ValidatedFile, settings: ModelSettings) -> None:
    for key in identity_keys(file.frame, settings):
        seen.setdefault(key, file.path.name)


def _duplicates(file: ValidatedFile, seen: dict[str, str], settings: ModelSettings) -> list[dict[str, object]]:
    """Rows of `file` whose identity is already in the dataset (`seen`) or earlier in the file."""
    found: list[dict[str, object]] = [{"row": d.row, "line": d.line, "identity": d.key, "first_seen": f"row {d.first_row} of this file"}
             for d in file.duplicates]
    rows, lines = file.frame.attrs["row"], file.frame.attrs["line"]
    keys = identity_keys(file.frame, settings)
    for position in (~keys.duplicated()).to_numpy().nonzero()[0]:  # repeats within the file: above
        key, label = keys.iloc[position], int(file.frame.index[int(position)])
        if key in seen:
            found.append({"row": rows[label], "line": lines[label], "identity": key, "first_seen": seen[key]})
    return found


def _store(ws: Workspace, model: str, files: list[ValidatedFile]) -> list[IngestedFile]:
    folder = ws.project.data_dir(model)
    folder.mkdir(parents=True, exist_ok=True)
    copied: list[Path] = []
    records: list[IngestedFile] = []
    try:
        for file in files:
            target = folder / f"{file.sha256[:12]}-{file.path.name}"
            partial = target.with_name(target.name + ".partial")
            shutil.copyfile(file.path, partial)
            partial.replace(target)
            copied.append(target)
            records.append(IngestedFile(model, target.relative_to(ws.project.root).as_posix(),
                                        str(file.path), file.sha256, file.rows, now()))
            if ws.project.shared_registry:  # the team's other machines train on it too
                ws.registry.store_data_file(model, target)
        ws.state.add_ingested(records)
    except BaseException:
        for path in copied:  # nothing half-stored
            path.unlink(missing_ok=True)
        raise
    return records
