"""``Catalog.explain``: the answer of ``policy-match explain --format json`` for every
fixture enterprise, the profiles the command line rejects, dates, caps, threads and
memory."""

import datetime
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import AS_OF, REPO, fixture_profiles

FIXTURES = "fixtures/enterprises.jsonl"
PROFILES = fixture_profiles()


@pytest.mark.parametrize("profile", PROFILES, ids=[p["id"] for p in PROFILES])
def test_explain_is_what_the_command_line_prints(catalog, cli, profile):
    expected = cli.json(
        "explain", "--enterprises", FIXTURES, "--id", profile["id"],
        "--as-of", AS_OF, "--format", "json",
    )
    got = catalog.explain(profile, AS_OF)
    assert got == expected
    assert list(got) == list(expected)
    assert got["catalog_hash"] == catalog.hash
    assert len(got["results"]) == 145


def test_caps_are_the_command_lines(catalog, cli):
    profile = next(p for p in PROFILES if p["id"] == "91330603MA2D3LX08L")
    expected = cli.json(
        "explain", "--enterprises", FIXTURES, "--id", profile["id"], "--as-of", AS_OF,
        "--format", "json", "--max-pushes", "3", "--max-unlocks", "0",
    )
    got = catalog.explain(profile, AS_OF, max_pushes=3, max_unlocks=0)
    assert got == expected
    assert len(got["pushes"]) == 3 and got["unlocks"] == []


@pytest.mark.parametrize(
    "name, value", [("max_pushes", 0), ("max_pushes", 256), ("max_unlocks", 256)]
)
def test_caps_out_of_the_command_lines_range_are_refused(catalog, name, value):
    with pytest.raises(ValueError, match=f"`{name}` must be"):
        catalog.explain(PROFILES[0], AS_OF, **{name: value})


def test_as_of_may_be_a_date(catalog):
    assert catalog.explain(PROFILES[0], datetime.date(2025, 6, 30)) == catalog.explain(
        PROFILES[0], AS_OF
    )


@pytest.mark.parametrize(
    "as_of, error, message",
    [
        ("2025-02-30", ValueError, "`2025-02-30` is not a date YYYY-MM-DD"),
        ("30/06/2025", ValueError, "`30/06/2025` is not a date YYYY-MM-DD"),
        (datetime.datetime(2025, 6, 30, 12), TypeError, "not a datetime"),
        (20250630, TypeError, "found int"),
    ],
)
def test_a_bad_date_is_refused(catalog, as_of, error, message):
    with pytest.raises(error, match=re.escape(message)):
        catalog.explain(PROFILES[0], as_of)


def reject_reason(cli, tmp_path, profile) -> str:
    """Why ``policy-match explain`` rejects ``profile`` as a line of a JSON Lines file."""
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(profile, ensure_ascii=False) + "\n", encoding="utf-8")
    stderr = cli.run(
        "--error-format", "json", "explain", "--enterprises", str(path),
        "--id", profile["id"], "--as-of", AS_OF, "--format", "json", expect=1,
    ).stderr
    message = json.loads(stderr)["error"]
    return message.split(" was rejected: ", 1)[1]


def with_changes(**changes) -> dict:
    profile = json.loads(json.dumps(PROFILES[0]))
    profile.update(changes)
    return profile


@pytest.mark.parametrize(
    "profile, part",
    [
        # The check character of the 统一社会信用代码 is wrong.
        (with_changes(id=PROFILES[0]["id"][:-1] + "6"), "统一社会信用代码"),
        (with_changes(tags=PROFILES[0]["tags"] + ["size:gigantic"]), "size:gigantic"),
        (with_changes(tags=PROFILES[0]["tags"] + ["colour:red"]), "colour:red"),
        (with_changes(fields={"employees": "many"}), "employees"),
    ],
    ids=["bad-uscc", "unknown-tag-value", "unknown-namespace", "bad-field-type"],
)
def test_a_profile_the_command_line_rejects_raises_its_reason(
    catalog, cli, tmp_path, profile, part
):
    reason = reject_reason(cli, tmp_path, profile)
    assert part in reason, reason
    with pytest.raises(ValueError) as raised:
        catalog.explain(profile, AS_OF)
    assert str(raised.value) == reason


@pytest.mark.parametrize(
    "profile, error",
    [
        (["not", "an", "object"], ValueError),
        (with_changes(fields={"employees": float("nan")}), ValueError),
        (with_changes(fields={"founded": datetime.date(2006, 3, 18)}), TypeError),
    ],
    ids=["a-list", "nan", "a-date-object"],
)
def test_what_json_lines_cannot_hold_is_refused(catalog, profile, error):
    with pytest.raises(error):
        catalog.explain(profile, AS_OF)


def test_threads_get_the_answers_one_thread_gets(catalog):
    alone = [catalog.explain(p, AS_OF) for p in PROFILES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda p: catalog.explain(p, AS_OF), PROFILES * 4))
    assert together == alone * 4


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_a_thousand_calls_do_not_grow_memory(catalog):
    for p in PROFILES * 5:  # warm up: allocator pools, interned strings
        catalog.explain(p, AS_OF)
    before = rss_bytes()
    for i in range(1000):
        catalog.explain(PROFILES[i % len(PROFILES)], AS_OF)
    grown = rss_bytes() - before
    # One answer is about 100 KiB of Python objects: a leak of one per call would be
    # 100 MiB; allow allocator noise.
    assert grown < 16 << 20, f"RSS grew by {grown / (1 << 20):.1f} MiB over 1000 calls"


def test_the_readme_examples_run(capsys):
    import policy_match

    for path, start in [
        (REPO / "README.md", "## Python"),
        (REPO / "bindings/python/README.md", "# policy_match"),
    ]:
        text = path.read_text(encoding="utf-8")
        section = text[text.index(start):]
        code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
        exec(compile(code, str(path), "exec"), {})
    # The package docstring's example, too.
    doc = policy_match.__doc__
    example = doc[doc.index("Example::") + len("Example::"):doc.index("Contents:")]
    exec(compile(__import__("textwrap").dedent(example), "policy_match.__doc__", "exec"), {})
    assert "M0" in capsys.readouterr().out
