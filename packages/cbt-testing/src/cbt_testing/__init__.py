"""cbt-testing: the repository's own test and benchmark tooling (a dev dependency of the
workspace, never of a cbt-* package): loopback servers that speak the teacher APIs
(teacher_servers), synthetic dataset records (synthetic), chat examples and tiny models
(training), files to import (import_files), the stage graph as DVC resolves it (dvc_stages), a
throwaway git + DVC copy of the pipeline (repo), stand-in stages (fake_pipeline), the remote
cycle (remote_cycle), a loopback S3 server (s3server) and the benchmarks' result files (bench).
It is installed editable from packages/cbt-testing, so ROOT is this checkout."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[4]

__all__ = ["ROOT"]
