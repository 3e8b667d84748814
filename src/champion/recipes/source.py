"""A user's recipe source travels with its model, and loads from there in isolation.

A recipe given as `module:Class` lives in the project folder. When a model is saved, the
Python source of that module, and of every other module it imported from the project folder,
is copied into the model (as MLflow's `code_paths` do), so a registered version loads in any
process (an endpoint, the smoke test, the agent, a Docker image) without the project on
`sys.path`, and keeps loading after the user edits the module.

Two versions of one module may be loaded in one process (an endpoint swapping v1 for v2), so
each is imported from its own copy with the module names swapped in for the time of the load
and swapped back after: the loaded recipe keeps its own classes and functions.
"""

from __future__ import annotations

import importlib
import json
import shutil
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from champion.recipes.base import Recipe

CODE_DIR = "code"
_BUILT_IN_PREFIX = "champion."
_NOT_PROJECT_PARTS = {"site-packages", "dist-packages", "__pycache__"}
_IMPORT_LOCK = threading.RLock()  # sys.modules and sys.path are process-wide
T = TypeVar("T")


def project_modules(project_root: Path) -> dict[str, Path]:
    """Top-level modules imported from the project folder: name -> its file or package folder.

    Folders of the project that hold installed packages or state (a `.venv`, `.champion`,
    anything hidden, `site-packages`) are not project source."""
    root = project_root.resolve()
    found: dict[str, Path] = {}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if not file or name.startswith(_BUILT_IN_PREFIX) or name == "champion" or name == "__main__":
            continue
        path = Path(file).resolve()
        depth = name.count(".") + 1
        # The top-level module's file, or its package's folder.
        if path.name == "__init__.py":
            top = path.parents[depth - 1]
        else:
            top = path if depth == 1 else path.parents[depth - 2]
        try:
            relative = top.relative_to(root)
        except ValueError:
            continue
        if any(part.startswith(".") or part in _NOT_PROJECT_PARTS for part in relative.parts):
            continue
        found[name.partition(".")[0]] = top
    return found


def copy_source(modules: dict[str, Path], target: Path) -> list[str]:
    """Copy the `.py` files of `modules` (from `project_modules`) into `target`; the names copied."""
    for path in modules.values():
        if path.is_dir():
            for source in sorted(path.rglob("*.py")):
                relative = source.relative_to(path.parent)
                if any(part.startswith(".") or part in _NOT_PROJECT_PARTS for part in relative.parts):
                    continue
                (target / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target / relative)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / path.name)
    return sorted(modules)


@contextmanager
def code_on_path(code_dir: Path, top_level: list[str]) -> Iterator[None]:
    """Import `top_level` modules from `code_dir` while the context lasts, then put back
    whatever modules of those names the process had before."""
    with _IMPORT_LOCK:
        def ours(name: str) -> bool:
            return name.partition(".")[0] in top_level

        saved = {name: module for name, module in sys.modules.items() if ours(name)}
        for name in saved:
            del sys.modules[name]
        sys.path.insert(0, str(code_dir))
        importlib.invalidate_caches()
        try:
            yield
        finally:
            sys.path.remove(str(code_dir))
            loaded: dict[str, ModuleType] = {n: m for n, m in sys.modules.items() if ours(n)}
            for name in loaded:
                del sys.modules[name]
            sys.modules.update(saved)


def with_code(code_dir: Path | None, top_level: list[str], action: Callable[[], T]) -> T:
    """`action()` with the copied source importable (or as it is when nothing was copied)."""
    if code_dir is None or not top_level:
        return action()
    with code_on_path(code_dir, top_level):
        return action()


META_FILE = "recipe.json"


def save_with_source(recipe: Recipe, spec: str, folder: Path, project_root: Path | None) -> None:
    """Save a fitted recipe into the empty `folder`: its own files, `recipe.json` (how to load
    it), and for a recipe of the project folder its source under `code/`."""
    recipe.save(folder)
    cls = type(recipe)
    copied: list[str] = []
    if project_root is not None and not cls.__module__.startswith(_BUILT_IN_PREFIX):
        copied = copy_source(project_modules(project_root), folder / CODE_DIR)
    meta = {"recipe": spec, "class": f"{cls.__module__}:{cls.__qualname__}", "task": recipe.task, "code": copied}
    (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")


def load_saved(folder: Path, project_root: Path | None = None) -> Recipe:
    """Load a recipe written by `save_with_source`, from its own copy of its source when it
    has one (else, for models saved before sources travelled, from `project_root`)."""
    from champion.recipes.loader import recipe_class

    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    copied = [str(name) for name in meta.get("code") or []]
    code_dir = folder / CODE_DIR if copied else None

    def load() -> Recipe:
        cls = recipe_class(meta["class"], None if code_dir else project_root)
        return cls.load(folder)

    return with_code(code_dir, copied, load)
