"""cbt-dataset: teacher records -> the student's training and test sets, without any LLM.

Join (join.py), duplicates (dedup.py), a leak-free stratified split (split.py), chat examples
(chat.py), token counts with the student's tokenizer (tokens.py), the diversity report
(report.py) and its figure (figure.py, the `figure` extra). `build_dataset()` (build.py) runs
them in order; the `cbt-dataset` command (cli.py) is a thin shell around it.
"""

from cbt_dataset.build import Paths, build_dataset

__all__ = ["Paths", "build_dataset"]
