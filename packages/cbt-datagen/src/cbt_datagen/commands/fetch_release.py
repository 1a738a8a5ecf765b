"""cbt-datagen fetch-release: the CBTLlama paper's released data, at a pinned revision.

  cbt-datagen fetch-release --revision main          # first time: resolves main to a commit
  cbt-datagen fetch-release --revision <commit sha>  # later: exactly the same files

Downloads the two datasets the paper released on the Hugging Face Hub with huggingface_hub
(its cache, HF_TOKEN and HF_HUB_OFFLINE apply) and copies their tabular file to
OUT/assessments.<ext> (epsilon3/cbt-cognitive-distortions-analysis, 621 rows) and
OUT/events.<ext> (epsilon3/cbt-triggering-events, 1,750 rows). OUT/RELEASE.json records
each repository, the revision asked for, the commit it resolved to, every file's sha256 and
the columns found; the columns and a suggested teacher.file.columns are printed, because the
release's layout could not be checked when the paper-release profile was written.
Then `dvc add OUT` pins the files in the project's remote storage.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cbt_schema import logs, paths

RELEASE = {"assessments": "epsilon3/cbt-cognitive-distortions-analysis",
           "events": "epsilon3/cbt-triggering-events"}
TABULAR = (".csv", ".tsv", ".jsonl", ".json", ".parquet")

log = logging.getLogger(__name__)


def main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen fetch-release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--revision", required=True,
                        help="a commit sha (pinned), or a branch/tag to resolve once")
    parser.add_argument("--out", default=f"{paths.IMPORTS}/paper-release")
    parser.add_argument("--only", choices=sorted(RELEASE), help="fetch one of the two")
    logs.add_verbosity(parser)
    args = parser.parse_args(argv, given)
    logs.configure(args)

    from cbt_schema.jsonl import write_json

    out = Path(args.out)
    names = [args.only] if args.only else list(RELEASE)
    record = {"revision_requested": args.revision, "datasets": {}}
    for name in names:
        record["datasets"][name] = fetch(RELEASE[name], args.revision, out, name)
    write_json(out / "RELEASE.json", record)
    print(f"wrote {out / 'RELEASE.json'}; pin the files with: dvc add {out}")
    return 0


def fetch(repo: str, revision: str, out: Path, name: str) -> dict:
    """One dataset repository: download at `revision`, copy its one tabular file, describe it."""
    import shutil

    from cbt_datagen.importing.formats import source_sha256
    from cbt_datagen.importing.inspect import describe, suggest_mapping
    from cbt_schema import UserError

    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise UserError("fetching the release needs huggingface_hub: install "
                        "cbt-datagen[import]") from None
    try:
        snapshot = Path(snapshot_download(repo_id=repo, repo_type="dataset",
                                          revision=revision))
    except Exception as exc:  # offline, unknown revision, gated repo: the hub says which
        raise UserError(f"{repo}@{revision}: cannot download ({type(exc).__name__}: "
                        f"{str(exc).splitlines()[0]})") from None
    files = sorted(p for p in snapshot.rglob("*") if p.is_file()
                   and p.suffix.lower() in TABULAR and p.name != "RELEASE.json")
    if len(files) != 1:
        listed = ", ".join(p.relative_to(snapshot).as_posix() for p in files) or "none"
        raise UserError(f"{repo}@{revision}: expected one data file, found {len(files)} "
                        f"({listed}); copy the one you want under {out}/ yourself")
    target = out / f"{name}{files[0].suffix.lower()}"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files[0], target)
    columns, _ = describe(target)
    suggested = suggest_mapping(columns)
    log.info("%s: commit %s, %s -> %s\n  columns: %s\n  suggested mapping (check it): %s",
             repo, snapshot.name, files[0].relative_to(snapshot).as_posix(), target,
             ", ".join(columns), ", ".join(f"{k}={v}" for k, v in suggested.items()))
    return {"repo": repo, "commit": snapshot.name,
            "file": files[0].relative_to(snapshot).as_posix(), "copied_to": target.as_posix(),
            "sha256": source_sha256(target), "columns": columns,
            "suggested_columns": suggested}
