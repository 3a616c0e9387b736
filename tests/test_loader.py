"""The loader and validator, on the real rule base and on broken copies of it."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from repatriate.cli import app
from repatriate.errors import DataError
from repatriate.rulebase import loader

runner = CliRunner()


def test_real_rule_base_is_valid():
    assert loader.validate() == []


def test_digest_is_stable_and_shown(rb):
    assert rb.digest == loader.digest_of(loader.collect_files())
    assert len(rb.digest) == 64


@pytest.fixture()
def broken(tmp_path):
    """A full copy of the packaged data, to break one file at a time."""
    dst = tmp_path / "data"
    shutil.copytree(loader.default_data_dir(), dst)
    return dst


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_reports_file_and_field_of_a_type_error(broken):
    _edit(broken / "channels" / "fdi.yaml", "weeks: {min: 0, max: 1.2", "weeks: {min: 3, max: 1")
    problems = loader.validate(broken)
    assert any(p.startswith("channels/fdi.yaml: steps.0.weeks") and "below min" in p for p in problems)


def test_reports_dangling_references(broken):
    _edit(
        broken / "channels" / "qfii.yaml", "documents: [qfi_application,", "documents: [no_such_doc, qfi_application,"
    )
    _edit(broken / "channels" / "fdi.yaml", "sources: [samr_2021_746", "sources: [no_such_source, samr_2021_746")
    problems = loader.validate(broken)
    assert any("channels/qfii.yaml" in p and "unknown document 'no_such_doc'" in p for p in problems)
    assert any("channels/fdi.yaml" in p and "unknown source 'no_such_source'" in p for p in problems)


def test_reports_bad_yaml_and_unknown_keys(broken):
    (broken / "structures.yaml").write_text("a: [unclosed\n", encoding="utf-8")
    _edit(broken / "provinces" / "CN-GS.yaml", "kind: province", "kind: province\ncolour: red")
    problems = loader.validate(broken)
    assert any(p.startswith("structures.yaml: line ") and "not valid YAML" in p for p in problems)
    assert any(p.startswith("provinces/CN-GS.yaml: colour") for p in problems)


def test_overlapping_dated_values_are_rejected(broken):
    path = broken / "parameters.yaml"
    text = path.read_text(encoding="utf-8")
    # make the first value open-ended so it overlaps its successor
    first_to = text.index("to:")
    end = text.index("\n", first_to)
    path.write_text(text[:first_to] + "to: null" + text[end:], encoding="utf-8")
    assert any("overlap" in p for p in loader.validate(broken))


def test_load_raises_data_error_with_every_problem(broken):
    _edit(broken / "channels" / "fdi.yaml", "location: asset", "location: moon")
    with pytest.raises(DataError) as exc:
        loader.load(broken, use_cache=False)
    assert exc.value.problems and "channels/fdi.yaml: location" in exc.value.problems[0]


def test_cli_validate_exit_codes(tmp_path):
    assert runner.invoke(app, ["data", "validate"]).exit_code == 0
    overlay = tmp_path / "overlay" / "channels"
    overlay.mkdir(parents=True)
    (overlay / "fdi.yaml").write_text("id: fdi\nname: {en: x}\n", encoding="utf-8")
    res = runner.invoke(app, ["data", "validate", "--data-dir", str(tmp_path / "overlay")])
    assert res.exit_code == 2
    assert "channels/fdi.yaml: name.zh" in res.output


def test_cli_schema_is_json_schema():
    res = runner.invoke(app, ["data", "schema"])
    assert res.exit_code == 0
    schema = json.loads(res.output)
    assert "channels/<id>.yaml" in schema["files"]
    assert "properties" in schema["files"]["provinces/<CN-XX>.yaml"]


def test_reference_errors_are_reported_beside_schema_errors(broken):
    _edit(broken / "channels" / "fdi.yaml", "location: asset", "location: moon")
    _edit(
        broken / "channels" / "qfii.yaml",
        "sources: [qfi_2020_176, csrc_qfi_guide_2025]",
        "sources: [no_such_source, csrc_qfi_guide_2025]",
    )
    problems = loader.validate(broken)
    assert any(p.startswith("channels/fdi.yaml: location") for p in problems)
    assert any("channels/qfii.yaml" in p and "unknown source 'no_such_source'" in p for p in problems)
