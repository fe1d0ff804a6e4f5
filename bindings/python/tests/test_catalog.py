"""The catalog from Python: the built-in one, its metadata, rules directories that do or
do not check, and a reload after an edit — each compared with the command line."""

import json
import re
import shutil

import pytest

import policy_match

from conftest import REPO


def test_builtin_hash_is_16_hex_digits_and_the_one_check_prints(catalog, cli):
    assert re.fullmatch(r"[0-9a-f]{16}", catalog.hash)
    printed = cli.run("check").stdout
    assert f"(catalog {catalog.hash})" in printed, printed


def test_measures_are_what_list_json_prints(catalog, cli):
    listed = cli.json("list", "--format", "json")
    ours = catalog.measures()
    assert ours == listed
    assert len(ours) == 145
    # The same keys in the same order, not only the same values.
    assert [list(m) for m in ours] == [list(m) for m in listed]


def test_builtin_warnings_are_what_check_reports(catalog, cli):
    reported = cli.run("--error-format", "json", "check").stderr
    assert catalog.warnings() == [json.loads(l) for l in reported.splitlines() if l]


def test_repr_names_the_count_and_hash(catalog):
    assert repr(catalog) == f"<policy_match.Catalog: 145 measures, hash {catalog.hash}>"


@pytest.fixture
def broken_rules(tmp_path):
    """``fixtures/broken_rules`` beside copies of the real schema and centre, as the
    command line's test lays it out."""
    shutil.copy(REPO / "rules" / "schema.toml", tmp_path / "schema.toml")
    shutil.copy(REPO / "rules" / "centre.toml", tmp_path / "centre.toml")
    shutil.copytree(REPO / "fixtures" / "broken_rules" / "measures", tmp_path / "measures")
    return tmp_path


def test_a_directory_that_does_not_check_raises_catalog_error_with_every_diagnostic(
    broken_rules, cli
):
    with pytest.raises(policy_match.CatalogError) as raised:
        policy_match.Catalog.from_dir(broken_rules)
    err = raised.value
    assert isinstance(err, ValueError)
    reported = cli.run(
        "--rules", str(broken_rules), "--error-format", "json", "check", expect=3
    ).stderr
    expected = [json.loads(l) for l in reported.splitlines() if l]
    assert err.diagnostics == expected
    assert len(expected) > 3
    errors = [d for d in expected if d["severity"] == "error"]
    warnings = len(expected) - len(errors)
    message = str(err)
    assert message.startswith(
        f"the catalog is invalid: {len(errors)} error(s), {warnings} warnings; first: "
    ), message
    first = errors[0]
    assert first["file"] in message and first["message"] in message, message


def test_a_missing_directory_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot read rules directory"):
        policy_match.Catalog.from_dir(tmp_path / "no-such-rules")


def test_an_edited_rules_directory_reloads_with_the_new_label(tmp_path, catalog):
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    before = policy_match.Catalog.from_dir(str(rules))
    assert before.hash == catalog.hash  # the built-in catalog is `rules/`, embedded

    old = "单位工业增加值能耗低于0.52吨标准煤/万元"
    new = "单位工业增加值能耗低于0.52吨标准煤/万元（已修订）"
    m017 = rules / "measures" / "M017.toml"
    text = m017.read_text(encoding="utf-8")
    assert text.count(f'label = "{old}"') == 1
    m017.write_text(text.replace(f'label = "{old}"', f'label = "{new}"'), encoding="utf-8")

    after = policy_match.Catalog.from_dir(rules)
    assert after.hash != before.hash
    labels = {m["id"]: m["conditions"] for m in after.measures()}
    assert new in labels["M017"] and old not in labels["M017"]
    # The catalog loaded before the edit still answers with what it read.
    assert old in {m["id"]: m["conditions"] for m in before.measures()}["M017"]


def test_warnings_are_what_check_reports_for_a_directory_with_one(tmp_path, cli):
    rules = tmp_path / "rules"
    shutil.copytree(REPO / "rules", rules)
    m001 = rules / "measures" / "M001.toml"
    text = m001.read_text(encoding="utf-8")
    # Drop the reviewed allowance: the lint it acknowledged warns again.
    allowed = [l for l in text.splitlines() if l.startswith("identity_only = ")]
    assert len(allowed) == 1
    m001.write_text(text.replace(allowed[0] + "\n", ""), encoding="utf-8")

    catalog = policy_match.Catalog.from_dir(rules)
    reported = cli.run("--rules", str(rules), "--error-format", "json", "check").stderr
    expected = [json.loads(l) for l in reported.splitlines() if l]
    assert catalog.warnings() == expected
    assert [(d["code"], d["severity"], d["measure"]) for d in expected] == [
        ("lint::identity_only", "warning", "M001")
    ]


def test_help_reads_well_and_the_stub_signature_is_the_real_one():
    import inspect
    import pydoc

    text = pydoc.render_doc(policy_match, renderer=pydoc.plaintext)
    for expected in [
        "Which measures of Keqiao's 民营经济32条",
        "class Catalog",
        "explain(self, /, profile, as_of, max_pushes=10, max_unlocks=3)",
        "class CatalogError(builtins.ValueError)",
        "from_dir(path)",
    ]:
        assert expected in text, expected
    params = list(inspect.signature(policy_match.Catalog.explain).parameters)
    assert params == ["self", "profile", "as_of", "max_pushes", "max_unlocks"]
    stub = (REPO / "bindings/python/python/policy_match/__init__.pyi").read_text()
    assert "max_pushes: int = 10" in stub and "max_unlocks: int = 3" in stub
    assert re.fullmatch(r"\d+\.\d+\.\d+", policy_match.__version__)
