"""`make mutate`: mutmut over the connector's rules, in a staged copy; prints the kill rate."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGE = ROOT / "build" / "mutate"
PACKAGE = ROOT / "layers" / "connector" / "toqio_connector"
EQUIVALENTS = ROOT / "docs" / "mutation.md"

# The rules: the modules mutated (the rest of the package is copied unmutated).
RULES = (  # paths under the package
    "rules/create_and_find.py",
    "rules/write_protocol.py",
    "rules/operator_changes.py",
    "rules/validation.py",
    "rules/registry.py",
    "rules/schema_keywords.py",
    "rules/bounds.py",
    "models/request.py",
    "rules/tokens.py",
    "rules/change_events.py",
    "rules/linking.py",
    "rules/listing.py",
    "edge/http.py",
    "edge/messages.py",
    "edge/stream.py",
    "edge/registry_file.py",
)
# What the tests need beside the package, copied as they are.
SUPPORT = (
    "tests",
    "local",
    "admin",
    "functions",
    "events",
    "docs",
    "template.yaml",
    "uv.lock",
    "README.md",  # tests/unit/test_docs.py reads it
    "Makefile",  # and this (make help's descriptions)
    "layers/connector/requirements.txt",
    "layers/connector/toqio_connector/registry",  # tests/harness/registries.py's EXAMPLE_REGISTRY
)
# Tests that start the local runner (or another Python) in a subprocess, i.e. tests/http:
# that process imports the repository's package, not the mutated copy, so they can kill
# nothing; and they are slow. The rules they exercise over HTTP are exercised in-process
# by the others (test_customers_api, test_faults, test_write_protocol, test_validation*, test_admin,
# test_authorizer, test_token_expiry, test_custom_parameters).
# every test that starts the runner or another process (the currency list's drift check
# runs tools/currencies.py, which reads the repository's package, not the staged one)
OUT_OF_PROCESS = ("tests/http", "tests/unit/test_currencies.py")
# Staged as a pytest plugin: mutmut's trampolines slow every call of a rule (recording which
# tests call what, most), so the wall-clock bounds of the timing tests are widened in the
# staged run (their outcome assertions stay; a mutant that removes a bound still meets
# mutmut's own time limit). And the tests of a mutant run fastest first: with -x the
# first failure ends the run, so a killed mutant costs its cheapest killing test.
PLUGIN = '''"""Staged by tools/mutate.py: widened time bounds, fastest tests first."""

import json
from pathlib import Path

SLOWDOWN = 10
BOUNDS = ("SECOND", "EVALUATION")


def pytest_collection_modifyitems(items):
    for module in {item.module for item in items if getattr(item, "module", None)}:
        if module.__name__.endswith("test_validation_bounds") and not hasattr(module, "_widened"):
            for name in BOUNDS:
                setattr(module, name, getattr(module, name) * SLOWDOWN)
            module._widened = True
    stats = Path("mutmut-stats.json")
    if stats.exists():
        took = json.loads(stats.read_text()).get("duration_by_test", {})
        items.sort(key=lambda item: took.get(item.nodeid, 0.0))
'''
CANARY_FILE = "rules/validation.py"
CANARY_TEST = "tests/unit/test_validation.py"

# mutmut's exit codes -> status (mutmut.stats.status_by_exit_code, summarised).
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped",
          36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          None: "not checked"}  # fmt: skip


def _copy(source: Path, target: Path) -> None:
    """Copy a file or a tree, keeping modification times (mutmut compares them)."""
    if source.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".hypothesis")
        shutil.copytree(
            source, target, ignore=ignore, dirs_exist_ok=True, copy_function=shutil.copy2
        )
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def _toml(value: object) -> str:
    return json.dumps(value)  # strings, booleans, numbers and lists of them: TOML as well


def stage(fresh: bool, debug: bool = False) -> None:
    """Lay out ``build/mutate``: ``src/toqio_connector`` (the package), the tests and what
    they need, the project's pyproject.toml with a ``[tool.mutmut]`` table, and a
    pytest.ini whose ``pythonpath`` puts the staged copies first."""
    if fresh and STAGE.exists():
        shutil.rmtree(STAGE)
    STAGE.mkdir(parents=True, exist_ok=True)
    for stale in ("tests", "src"):  # deleted files must not linger; mutants/ is kept
        shutil.rmtree(STAGE / stale, ignore_errors=True)
    for copied in {Path(name).parts[0] for name in SUPPORT}:  # nor mutmut's copies of them
        shutil.rmtree(STAGE / "mutants" / copied, ignore_errors=True)
    _copy(PACKAGE, STAGE / "src" / "toqio_connector")
    for name in SUPPORT:
        _copy(ROOT / name, STAGE / name)
    pyproject = (ROOT / "pyproject.toml").read_text()
    settings = {
        "source_paths": ["src"],
        "only_mutate": [f"src/toqio_connector/{name}" for name in RULES],
        "also_copy": [
            *sorted({Path(name).parts[0] for name in SUPPORT}),
            "pytest.ini",
            "mutate_timing.py",
        ],
        "pytest_add_cli_args": [
            *(f"--ignore={path}" for path in OUT_OF_PROCESS),
            "-p",
            "mutate_timing",
        ],
        "use_git_change_detection": False,  # the stage is inside the repository's work tree
        "debug": debug,  # mutmut prints every pytest command and its output
    }
    table = "\n".join(f"{key} = {_toml(value)}" for key, value in settings.items())
    (STAGE / "pyproject.toml").write_text(f"{pyproject}\n[tool.mutmut]\n{table}\n")
    (STAGE / "mutate_timing.py").write_text(PLUGIN)
    pytest = tomllib.loads(pyproject)["tool"]["pytest"]["ini_options"]
    ini = {
        "testpaths": " ".join(pytest["testpaths"]),
        "pythonpath": "src . local admin",  # the staged package, tests, runner and admin CLI
        "addopts": pytest.get("addopts", ""),
        "filterwarnings": "\n    ".join(["", *pytest.get("filterwarnings", [])]),
    }
    (STAGE / "pytest.ini").write_text(
        "[pytest]\n" + "".join(f"{key} = {value}\n" for key, value in ini.items())
    )


def _inside(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--inside", *args]


def _isolate() -> None:
    """Drop every import path into the repository (the editable install's .pth adds
    ``layers/connector``, ``local`` and ``admin``) but the stage: only the staged copies
    can be imported from here on, so the tests exercise the mutated package or fail."""

    kept = (STAGE, Path(sys.prefix).resolve())  # the stage, the environment (.venv)

    def into_repository(entry: str) -> bool:
        path = Path(entry or ".").resolve()
        return path.is_relative_to(ROOT) and not any(path.is_relative_to(k) for k in kept)

    sys.path[:] = [entry for entry in sys.path if not into_repository(entry)]


def canary() -> None:
    """A deliberately broken staged rule must make the tests fail (then it is restored)."""
    target = STAGE / "src" / "toqio_connector" / CANARY_FILE
    original = target.read_bytes()
    stat = target.stat()
    target.write_bytes(
        original + b"\n\ndef validate_create(*_args, **_kwargs):\n"
        b"    raise AssertionError('mutation canary: the staged copy is the one tested')\n"
    )
    try:
        result = subprocess.run(  # noqa: S603 - this interpreter, this script
            _inside("pytest", "-x", "-q", "-p", "no:cacheprovider", CANARY_TEST),
            cwd=STAGE, capture_output=True, text=True, check=False,
        )  # fmt: skip
    finally:
        target.write_bytes(original)
        os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    if result.returncode == 0 or "mutation canary" not in result.stdout:
        print(result.stdout[-3000:], result.stderr[-3000:])
        sys.exit("canary: a broken staged rule did not fail the tests; the run would mean nothing")
    print(f"canary: a broken staged {CANARY_FILE} fails {CANARY_TEST}: the staged copy is tested")


def results() -> dict[str, dict[str, int | None]]:
    """mutant name -> exit code, per rule module (from mutmut's ``.meta`` files)."""
    found = {}
    for name in RULES:
        meta = STAGE / "mutants" / "src" / "toqio_connector" / f"{name}.meta"
        if meta.exists():
            found[name] = json.loads(meta.read_text())["exit_code_by_key"]
    return found


def documented_equivalents() -> set[str]:
    """Mutant names that docs/mutation.md explains as equivalent (``- `name`: why``)."""
    if not EQUIVALENTS.exists():
        return set()
    return set(
        re.findall(r"^- `(toqio_connector\.[^`]+__mutmut_\d+)`", EQUIVALENTS.read_text(), re.M)
    )


def summary(elapsed: float | None) -> int:
    found = results()
    if not found:
        print("no mutation results: see mutmut's output above")
        return 1
    equivalent = documented_equivalents()
    totals: Counter[str] = Counter()
    rows = []
    undocumented: list[str] = []
    for name, codes in found.items():
        counts = Counter(STATUS.get(code, "suspicious") for code in codes.values())
        survivors = [m for m, c in codes.items() if STATUS.get(c, "suspicious") in
                     ("survived", "no tests", "suspicious")]  # fmt: skip
        explained = sum(1 for m in survivors if m in equivalent)
        undocumented += [m for m in survivors if m not in equivalent]
        counts["equivalent"] = explained
        counts["total"] = len(codes)
        totals.update(counts)
        rows.append((name, counts))
    header = f"{'module':<28}{'mutants':>8}{'checked':>8}{'killed':>8}{'timeout':>8}"
    header += f"{'survived':>9}{'no tests':>9}{'suspic.':>8}{'equiv.':>7}{'kill rate':>11}"
    print("\n" + header + "\n" + "-" * len(header))
    for name, counts in [*rows, ("total", totals)]:
        checked = counts["total"] - counts["not checked"] - counts["skipped"]
        caught = counts["killed"] + counts["timeout"]
        print(
            f"{name:<28}{counts['total']:>8}{checked:>8}{counts['killed']:>8}{counts['timeout']:>8}"
            f"{counts['survived']:>9}{counts['no tests']:>9}{counts['suspicious']:>8}"
            f"{counts['equivalent']:>7}{caught / max(1, checked):>10.1%}"
        )
    caught = totals["killed"] + totals["timeout"]
    checked = totals["total"] - totals["not checked"] - totals["skipped"]
    print(
        f"\nkill rate {caught}/{checked} = {caught / max(1, checked):.1%} of the mutants checked;"
        f" without the {totals['equivalent']} documented equivalent ones"
        f" {caught}/{checked - totals['equivalent']}"
        f" = {caught / max(1, checked - totals['equivalent']):.1%}"
        + (f"; this run took {elapsed / 60:.0f} min" if elapsed is not None else "")
    )
    if totals["not checked"]:
        print(
            f"{totals['not checked']} of {totals['total']} mutants not checked yet"
            " (`tools/mutate.py --resume` goes on)"
        )
    (STAGE / "survivors.txt").write_text("".join(f"{m}\n" for m in undocumented))
    if undocumented:
        print(f"\n{len(undocumented)} survivors neither killed nor documented in docs/mutation.md"
              f" (diffs: {STAGE.relative_to(ROOT)}/survivors.diff):")  # fmt: skip
        for mutant in undocumented:
            print(f"  {mutant}")
        with open(STAGE / "survivors.diff", "w") as out:
            subprocess.run(_inside("diffs"), cwd=STAGE, stdout=out, check=False)  # noqa: S603
        return 1
    return 0


def inside(args: list[str]) -> int:
    """Run in the stage with only the staged copies importable: mutmut, pytest or diffs."""
    _isolate()
    sys.path.insert(0, str(STAGE))  # mutate_timing
    command, rest = args[0], args[1:]
    if command == "pytest":
        import pytest

        return int(pytest.main(rest))
    if command == "diffs":
        from mutmut.mutation.diff_apply import get_diff_for_mutant

        for mutant in (STAGE / "survivors.txt").read_text().split():
            module = mutant.split(".x")[0].replace(".", "/")
            print(f"# {mutant}\n{get_diff_for_mutant(mutant, path=f'src/{module}.py')}")
        return 0
    from mutmut.__main__ import cli
    from mutmut.runners import harness

    execute = harness.PytestRunner.execute_pytest

    def execute_pytest(self, params: list[str], **kwargs):
        """pytest's argparse takes " -" inside an argument for an option (a parametrized
        id such as ``[{"id": -Infinity}]``), and a second session in this process escapes
        an id's backslashes again (``ids=repr`` of "\\t"): such a test is named by its
        function."""
        named, seen = [], set()
        for param in params:
            if "::" in param:
                odd = " -" in param or "\\" in param
                param = param.split("[", 1)[0] if odd else param
                if param in seen:
                    continue
                seen.add(param)
            named.append(param)
        return execute(self, named, **kwargs)

    harness.PytestRunner.execute_pytest = execute_pytest
    sys.argv = ["mutmut", command, *rest]
    return cli()  # exits


def main() -> int:
    if sys.argv[1:2] == ["--inside"]:
        return inside(sys.argv[2:])
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mutants", nargs="*", help="re-test only these mutants (implies --resume)")
    parser.add_argument("--resume", action="store_true",
                        help="keep build/mutate/mutants: re-stage the rest, test what is unchecked,"
                             " changed or named")  # fmt: skip
    parser.add_argument("--retest", action="store_true",
                        help="test again every mutant that survived and is not documented as"
                             " equivalent (after adding tests; implies --resume)")  # fmt: skip
    parser.add_argument("--summary", action="store_true", help="only print the last run's figures")
    parser.add_argument("--debug", action="store_true", help="mutmut shows pytest's output")
    parser.add_argument("--max-children", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()
    if options.summary:
        return summary(None)
    names = list(options.mutants)
    if options.retest:
        equivalent = documented_equivalents()
        names += [
            mutant
            for codes in results().values()
            for mutant, code in codes.items()
            if STATUS.get(code, "suspicious") in ("survived", "no tests", "suspicious")
            and mutant not in equivalent
        ]
        if not names:
            print("nothing to test again")
            return summary(None)
    stage(fresh=not (options.resume or names), debug=options.debug)
    canary()
    started = time.monotonic()
    run = subprocess.run(  # noqa: S603 - this interpreter, this script
        _inside("run", "--max-children", str(options.max_children), *names),
        cwd=STAGE, check=False,
    )  # fmt: skip
    return summary(time.monotonic() - started) or run.returncode


if __name__ == "__main__":
    sys.exit(main())
