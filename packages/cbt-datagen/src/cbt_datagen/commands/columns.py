"""cbt-datagen columns: what a file to import holds, and a column mapping to start from.

  cbt-datagen columns data/import/mine.csv
  cbt-datagen columns data/import/saved-dataset --split train

Prints the columns, the first row (each value cut to 80 characters) and a suggested
teacher.file.columns, a guess from the names to check before use: the import never guesses.
"""

from __future__ import annotations

import argparse

from cbt_schema import logs


def main(argv: list[str], given: argparse.Namespace | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cbt-datagen columns", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", help="a CSV, JSONL or Parquet file or a saved datasets folder")
    parser.add_argument("--format", default="auto",
                        choices=["auto", "csv", "jsonl", "parquet", "datasets"])
    parser.add_argument("--split", help="a saved DatasetDict's split")
    logs.add_verbosity(parser)
    args = parser.parse_args(argv, given)
    logs.configure(args)

    from pathlib import Path

    from cbt_datagen.importing.inspect import describe, suggest_mapping

    columns, rows = describe(Path(args.path), args.format, args.split)
    print(f"{args.path}: {len(columns)} columns")
    for name in columns:
        value = " ".join(str(rows[0].get(name, "")).split())
        print(f"  {name}: {value[:80]}{'...' if len(value) > 80 else ''}")
    print("suggested teacher.file.columns (check before use):")
    for field, column in suggest_mapping(columns).items():
        print(f"  {field}: {column}")
    return 0
