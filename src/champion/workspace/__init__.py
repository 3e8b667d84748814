"""What every service needs, below all of them: a project opened with its stores
(`Workspace`), the feedback service that both `champion feedback` and `POST /feedback` call,
and the helpers that tell and stop processes. Services (serving, triggers, pipelines) reach
the stores through here and never through each other."""

from champion.workspace.opened import Workspace, actor

__all__ = ["Workspace", "actor"]
