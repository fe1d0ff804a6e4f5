"""Type stubs of ``policy_match``: see the package docstring."""

import datetime
import os
from typing import Any, Mapping, Optional, Protocol, Sequence, TypedDict, Union

__version__: str

class Diagnostic(TypedDict, total=False):
    """One problem of a rules directory, as ``--error-format json`` writes it."""

    code: str
    """Stable code, e.g. ``rule::unknown_tag`` or ``lint::identity_only``."""
    severity: str
    """``error`` (the catalog does not load) or ``warning``."""
    message: str
    help: str
    file: str
    """Path relative to the rules directory, e.g. ``measures/M017.toml``."""
    measure: str
    line: int
    column: int

class CatalogError(ValueError):
    """A rules directory that does not check.

    The message names how many errors and warnings there are and the first error;
    ``diagnostics`` holds every one, errors and the warnings of the files that checked,
    in file order.
    """

    diagnostics: list[Diagnostic]

class ArrowStreamExportable(Protocol):
    """Anything with ``__arrow_c_stream__`` (the Arrow PyCapsule interface): a pyarrow
    ``Table``, ``RecordBatch`` or ``RecordBatchReader``, a polars ``DataFrame``, …"""

    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object: ...

class ArrowTable:
    """A result table of ``Catalog.match_arrow``, held in memory.

    Read it with any consumer of the Arrow PyCapsule interface (``pyarrow.table(t)``,
    ``polars.DataFrame(t)``), as many times as needed. Its columns, types and values are
    those of the Parquet file ``policy-match match --format parquet`` writes (text as
    ``large_string``).
    """

    @property
    def name(self) -> str:
        """The table's name: ``pushes``, ``rejects``, …"""
    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
    def __len__(self) -> int:
        """The number of rows."""
    def __arrow_c_stream__(self, requested_schema: Optional[object] = None) -> object:
        """The table as an Arrow C stream (a PyCapsule named ``arrow_array_stream``)."""

class Catalog:
    """A checked and compiled catalog of measures.

    Immutable and safe to share between threads; load a directory again to take up
    edited rules. Every answer carries the catalog's ``hash``.
    """

    @staticmethod
    def builtin() -> "Catalog":
        """The built-in Keqiao catalog (145 measures), embedded at build time."""
    @staticmethod
    def from_dir(path: Union[str, "os.PathLike[str]"]) -> "Catalog":
        """Loads, checks and compiles a rules directory.

        Raises ``CatalogError`` when a file does not check, ``OSError`` when the
        directory cannot be read.
        """
    @property
    def hash(self) -> str:
        """The content hash, 16 hex digits, as ``policy-match check`` prints it."""
    def measures(self) -> list[dict[str, Any]]:
        """Every measure, sorted by id, as ``policy-match list --format json`` prints it."""
    def warnings(self) -> list[Diagnostic]:
        """The lints that did not stop the catalog loading."""
    def explain(
        self,
        profile: Mapping[str, Any],
        as_of: Union[str, datetime.date],
        max_pushes: int = 10,
        max_unlocks: int = 3,
    ) -> dict[str, Any]:
        """Every measure's outcome for one enterprise, as ``policy-match explain --format json``.

        ``profile`` is a JSON Lines object ``{"id", "name", "tags", "fields"}``; a
        profile the command line would reject raises ``ValueError`` with its reason.
        ``as_of`` is ``'YYYY-MM-DD'`` or a ``datetime.date``.
        """
    def match_arrow(
        self,
        data: ArrowStreamExportable,
        as_of: Union[str, datetime.date],
        tables: Optional[Sequence[str]] = None,
        max_pushes: int = 10,
        max_unlocks: int = 3,
        threads: int = 1,
        row_numbers: Optional[str] = None,
    ) -> dict[str, Any]:
        """A whole population matched as ``policy-match match --format parquet`` does.

        ``data`` is in the population layout (``id``, ``name``, ``tags`` as a list of
        strings, one typed column per schema field), read through the Arrow C stream
        interface and checked as a Parquet file is: a missing, unknown or mistyped
        column raises ``ValueError`` naming it; a bad row is a reject. ``tables`` are
        result tables as ``--tables`` takes them (default: ``match``'s); ``threads`` the
        threads evaluating (default 1). ``row_numbers`` names an integer column, not part
        of the population, holding each row's number in the source file (from 1), which
        rejects name; without it rows are numbered from 1 in stream order. The GIL is
        released while evaluating.

        Returns ``{table: ArrowTable, …, "rejects": ArrowTable, "summary": dict}``: the
        tables equal the Parquet files, row for row; ``summary`` is ``summary.json``.
        """
