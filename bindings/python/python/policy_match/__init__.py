"""Which measures of Keqiao's 民营经济32条 an enterprise is meant for, and why.

``policy_match`` is the Python face of the policy-match engine (a Rust library): the
same checked catalog, the same decisions and the same JSON as the ``policy-match``
command line. It decides, for each measure and each enterprise profile (一企一档) as of
a date, one outcome (``eligible``, ``amount_pending``, ``not_eligible``,
``undetermined``, ``error``) with the status of every labelled condition, and what the
enterprise is told (精准推送: ranked pushes, grants, unlocks, notices).

Example::

    import policy_match

    catalog = policy_match.Catalog.builtin()
    answer = catalog.explain(
        {
            "id": "91330603MA2BK7R415",
            "name": "绍兴柯桥锦虹印染有限公司",
            "tags": ["kind:enterprise", "ownership:private", "industry:C1713"],
            "fields": {"energy_intensity": 0.41},
        },
        as_of="2025-06-30",
    )
    for push in answer["pushes"]:
        print(push["rank"], push["measure_id"], push["title"])

Contents:

- ``Catalog``: ``Catalog.builtin()``, ``Catalog.from_dir(path)``, ``.hash``,
  ``.measures()``, ``.warnings()``, ``.explain(profile, as_of)``,
  ``.match_arrow(data, as_of)`` (a whole population held as Arrow: a pyarrow Table or
  RecordBatchReader, a polars DataFrame);
- ``ArrowTable``: a result table of ``match_arrow``, read with ``pyarrow.table(t)``
  or ``polars.DataFrame(t)`` (the Arrow PyCapsule interface);
- ``CatalogError``: a rules directory that does not check (a ``ValueError`` whose
  ``diagnostics`` lists every problem);
- ``policy_match.dataflow`` (needs pyarrow): a population matched partition by
  partition on Spark or Ray with the single run's tables (``examples/spark_match.py``,
  ``examples/ray_match.py``).

Answers are plain dicts and lists, exactly what ``policy-match list --format json`` and
``policy-match explain --format json`` print; ``match_arrow``'s tables are those
``policy-match match --format parquet`` writes.
"""

from policy_match._native import ArrowTable, Catalog, CatalogError, __version__

__all__ = ["ArrowTable", "Catalog", "CatalogError", "__version__"]
