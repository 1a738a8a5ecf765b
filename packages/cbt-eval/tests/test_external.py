import json
from pathlib import Path

import pytest

from cbt_eval.external import LabelMapping, load_labelled
from cbt_schema import UserError

TEMPLATE = Path(__file__).resolve().parent.parent / "src/cbt_eval/mapping_template.yaml"


def _csv(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "data.csv"
    lines = ["text,dominant,secondary"] + [f'"{t}",{a},{b}' for t, a, b in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_template_maps_common_names(tmp_path: Path) -> None:
    path = _csv(tmp_path, [
        ("They think I'm stupid.", "Mind Reading", ""),
        ("It will be a disaster.", "Catastrophizing", "Fortune-telling"),
        ("Lovely day.", "No Distortion", ""),
        ("Whatever.", "Other", ""),
        ("My fault.", "Blaming", "Labeling"),
    ])
    data = load_labelled(path, "text", ["dominant", "secondary"], LabelMapping.load(TEMPLATE))
    assert data.gold == [
        frozenset({"jumping_to_conclusions"}),
        frozenset({"magnification", "jumping_to_conclusions"}),
        frozenset(),
        frozenset({"personalization", "labeling"}),
    ]
    assert data.excluded_rows == 1 and data.dropped_labels == {"Other": 1}


def test_unknown_label_without_mapping_is_named(tmp_path: Path) -> None:
    path = _csv(tmp_path, [("x", "Wishful thinking", ""), ("y", "Labeling", "")])
    with pytest.raises(UserError, match=r"labels not in the ten .*'Wishful thinking' \(1x\)"):
        load_labelled(path, "text", ["dominant"], LabelMapping.load(None))


def test_missing_column_and_bad_mapping(tmp_path: Path) -> None:
    path = _csv(tmp_path, [("x", "Labeling", "")])
    with pytest.raises(UserError, match=r"no column 'label' \(columns: dominant, secondary, text"):
        load_labelled(path, "text", ["label"], LabelMapping.load(None))
    bad = tmp_path / "m.yaml"
    bad.write_text("labels:\n  foo: wishful\n")
    with pytest.raises(UserError, match=r"labels.foo: 'wishful' is not one of"):
        LabelMapping.load(bad)


def test_jsonl_with_list_labels(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"t": "a", "l": ["should statements", "labeling"]}, {"t": "b", "l": []}]) + "\n")
    data = load_labelled(path, "t", ["l"], LabelMapping.load(None))
    assert data.gold == [frozenset({"should_statements", "labeling"})]
    assert data.excluded_rows == 1


def test_json_array_file(tmp_path: Path) -> None:
    """CBT-Bench ships each set as one JSON array of objects."""
    path = tmp_path / "distortions_test.json"
    rows = [{"ori_text": "a", "distortions": ["Mind Reading"]},
            {"ori_text": "b", "distortions": ["Labeling", "Overgeneralization"]}]
    path.write_text(json.dumps(rows, indent=2))
    data = load_labelled(path, "ori_text", ["distortions"], LabelMapping.load(TEMPLATE))
    assert data.gold == [frozenset({"jumping_to_conclusions"}),
                         frozenset({"labeling", "overgeneralization"})]
    path.write_text("[1, 2]")
    with pytest.raises(UserError, match="expected an array of objects"):
        load_labelled(path, "ori_text", ["distortions"], LabelMapping.load(TEMPLATE))
