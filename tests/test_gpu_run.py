"""The GPU run's two commands (scripts/gpu_run.py), tested on the CPU.

- `prepare` builds the carried folder: each wheel the GPU machine lacks, with the
  ones it needs in turn, none it has, none for what the GPU run does not do, and says
  the size. Here it takes the wheels from a local folder (tests never touch the
  network); `prepare --plan` shows the decisions for the real pyproject.toml.
- Every package that the examples, the tests the run runs and the benchmark import
  is on the GPU machine or carried.
- `run` without a GPU stops at once, with one line and a non-zero exit status.
- `run` selects every example on cuda, the inline blocks and the GPU-only tests.
- Its record is a matrix record with the devices noted, its summary fits a screen,
  and hooks/versions.py shows cuda results only for the releases they were seen on.
"""

import ast
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from importlib.metadata import packages_distributions

from project import EXAMPLES, ROOT, load_script

SCRIPT = ROOT / "scripts" / "gpu_run.py"


gpu_run = load_script("scripts/gpu_run.py")
versions = load_script("hooks/versions.py")


def make_wheel(folder, name, version, requires=()):
    """A real (tiny) pure-Python wheel, as pip installs it."""
    dist_info = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{dist_info}/METADATA": "Metadata-Version: 2.1\n"
        f"Name: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires),
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{path},sha256={b64},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        for path, text in files.items():
            z.writestr(path, text)
    return wheel


def test_prepare_builds_the_folder_from_local_wheels(tmp_path, monkeypatch, capsys):
    source = tmp_path / "wheelhouse"
    source.mkdir()
    make_wheel(
        source,
        "alpha",
        "1.0",
        ["gamma", "numpy>=1.20", "torch>=2.0", "epsilon; extra == 'docs'"],
    )
    make_wheel(source, "beta", "2.0")
    make_wheel(source, "gamma", "0.5", ["delta; python_version < '3.12'"])
    make_wheel(source, "epsilon", "1.0")  # only for an extra: not carried
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "t"\nversion = "0"\n'
        'dependencies = ["torch==2.14.1", "alpha==1.0", "mkdocs==1.6.1", "numpy>=2.0"]\n'
        '[project.optional-dependencies]\ntest = ["beta>=1", "playwright==1.65.2"]\n'
    )
    dest = tmp_path / ".gpu-wheels"
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)  # no index from a pip.conf
    argv = ["prepare", "--pyproject", str(pyproject), "--find-links", str(source)]
    assert gpu_run.main([*argv, "--dest", str(dest)]) == 0
    printed = capsys.readouterr().out

    wheels = sorted(p.name for p in dest.glob("*.whl"))
    assert wheels == [
        "alpha-1.0-py3-none-any.whl",
        "beta-2.0-py3-none-any.whl",
        "gamma-0.5-py3-none-any.whl",
    ]
    plan = json.loads((dest / "plan.json").read_text())
    actions = {d["name"]: (d["action"], d["needed_by"]) for d in plan["decisions"]}
    assert actions["torch"] == ("there", "") and actions["numpy"] == ("there", "")
    assert actions["mkdocs"][0] == actions["playwright"][0] == "left out"
    assert actions["gamma"] == ("carry", "alpha")
    assert "epsilon" not in actions and "delta" not in actions
    size = sum((dest / w).stat().st_size for w in wheels)
    assert plan["wheels_bytes"] == size
    last = printed.strip().splitlines()[-1]
    assert re.search(
        r": 3 wheels, 0\.0 MiB; with the working tree .* of the 64 MiB", last
    )

    # The run installs them as it will there: no index, no dependencies, a target.
    site = tmp_path / "site"
    found, code, _ = gpu_run.install_wheels(dest, site, tmp_path / "log.txt")
    assert code == 0, (tmp_path / "log.txt").read_text()
    assert len(found) == 3 and (site / "gamma" / "__init__.py").is_file()
    assert gpu_run.unmet_requirements(site, found) == []
    sys.path.remove(str(site))


def decisions():
    return {
        d.name: d
        for d in map(
            gpu_run.decide, gpu_run.project_requirements(ROOT / "pyproject.toml")
        )
    }


def test_the_plan_for_this_project():
    """What the GPU machine lacks is carried; the site build and the browser are not."""
    plan = decisions()
    for name in ["keras", "pytest-examples", "nbformat", "deepspeed", "omegaconf"]:
        assert plan[name].action == "carry", plan[name]
    # transformers and accelerate are there at other versions: carried at the pin.
    assert plan["transformers"].action == plan["accelerate"].action == "carry"
    assert plan["torch"].action == plan["torchvision"].action == "there"
    for name in ["mkdocs", "mkdocs-material", "playwright", "nox", "ipykernel"]:
        assert plan[name].action == "left out", plan[name]


RUN_BY_THE_GPU_RUN = [
    *EXAMPLES,
    "benchmarks/load_speed.py",
    *(p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").glob("*.py")),
]
NOT_RUN_THERE = {"tests/test_browser.py", "tests/test_scaffold.py"}


def imported_modules(path):
    tree = ast.parse((ROOT / path).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


def test_every_import_reaches_the_gpu_machine():
    """A package an example, a test or the benchmark imports is there or carried."""
    carried = {n for n, d in decisions().items() if d.action == "carry"}
    dists = packages_distributions()
    problems = []
    for path in RUN_BY_THE_GPU_RUN:
        if path in NOT_RUN_THERE:
            continue
        for module in set(imported_modules(path)):
            if module in sys.stdlib_module_names or module not in dists:
                continue  # the standard library, the tests' own, what a script writes
            names = {gpu_run.canonical(d) for d in dists[module]}
            if not names & (set(gpu_run.ON_THE_GPU_MACHINE) | carried):
                problems.append(
                    f"{path} imports {module} ({', '.join(sorted(names))}), which the "
                    "GPU machine lacks and scripts/gpu_run.py does not carry: list it "
                    "in pyproject.toml"
                )
    assert not problems, "\n".join(problems)


def test_run_without_a_gpu_stops_at_once(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "CUDA_VISIBLE_DEVICES": ""}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, SCRIPT, "run"], capture_output=True, text=True, env=env
    )
    seconds = time.perf_counter() - started
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("no GPU run: torch ") and "sees no CUDA GPU" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["summary.txt"]
    assert (out / "summary.txt").read_text() == lines[0] + "\n"
    assert seconds < 30  # the time to import torch: nothing else ran


def test_the_run_selects_every_example_on_cuda():
    """The tests it names exist, and the examples' run on each device (checked by
    name: collecting them all would take as long as several examples)."""
    import conftest

    assert "cuda" in conftest.DEVICES
    for selected in gpu_run.GPU_TESTS:
        path, _, name = selected.partition("::")
        tree = ast.parse((ROOT / path).read_text())
        tests = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
        assert not name or name in tests, selected
    tree = ast.parse((ROOT / "tests" / "test_examples.py").read_text())
    example = next(n for n in tree.body if getattr(n, "name", "") == "test_example")
    assert [a.arg for a in example.args.args][:2] == ["script", "device"]
    assert "tests/test_docs.py::test_inline_block" in gpu_run.GPU_TESTS
    # The device in a test's id, as the record and the hook read it.
    assert gpu_run.device_of("t::test_example[cuda-examples/x/cuda_y.py]") == "cuda"
    assert gpu_run.device_of("t::test_example[cpu-examples/x/cuda_y.py]") == "cpu"
    assert gpu_run.device_of("t::test_script_reproduces_fixtures[cuda]") == "cuda"
    assert gpu_run.device_of("tests.test_gpu_only::test_a") == "cuda"
    assert gpu_run.device_of("t::test_inline_block[docs/devices.md:7-30]") is None
    for test in ["t::test_example[cuda-e.py]", "tests.test_gpu_only::t", "t::x[d.md]"]:
        assert versions.device_of(test) == gpu_run.device_of(test)


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="3" skipped="2" tests="8" time="201.5">
<testcase classname="tests.test_examples" name="test_example[cpu-examples/save/state_dict.py]" time="1"/>
<testcase classname="tests.test_examples" name="test_example[cuda-examples/save/state_dict.py]" time="1"/>
<testcase classname="tests.test_examples" name="test_example[cpu-examples/versions/old_file.py]" time="1">
<failure message="docs/versions.md: quotes examples/versions/old_file.py on PyTorch 2.6, 2.13 but not on 2.11: add a block">x</failure></testcase>
<testcase classname="tests.test_examples" name="test_example[cuda-examples/versions/old_file.py]" time="1"/>
<testcase classname="tests.test_examples" name="test_example[cuda-examples/load/eval_mode.py]" time="1">
<failure message="examples/load/eval_mode.py --device cuda exited with 1: run it">x</failure></testcase>
<testcase classname="tests.test_gpu_only" name="test_a_gpu_this_machine_does_not_have" time="1">
<failure message="AssertionError: invalid device ordinal">x</failure></testcase>
<testcase classname="tests.test_examples" name="test_example[mps-examples/save/state_dict.py]" time="0">
<skipped message="MPS (Apple silicon) is not available"/></testcase>
<testcase classname="tests.test_examples" name="test_example[cuda-examples/safety/weights_only.py]" time="0">
<skipped message="CUDA is not available"/></testcase>
</testsuite></testsuites>
"""
FACTS = {
    "torch_build": "2.11.0+cu130",
    "torch": "2.11.0",
    "cuda": "13.0",
    "gpu": "NVIDIA H100 80GB HBM3",
    "gpus": 1,
    "nccl": "2.27.7",
}


def fixed_record(tmp_path):
    (tmp_path / "junit.xml").write_text(JUNIT)
    outcomes, seconds = gpu_run.read_junit(tmp_path / "junit.xml")
    libraries = {
        "transformers": {"found": "5.24.0", "wanted": "==5.24.0", "meets": True}
    }
    libraries["accelerate"] = {"found": "1.15.0", "wanted": "==1.16.0", "meets": False}
    return outcomes, gpu_run.matrix_record(
        outcomes, seconds, FACTS, libraries, "2026-12-07"
    )


def test_the_record_of_a_fixed_run_is_a_matrix_record(tmp_path):
    outcomes, record = fixed_record(tmp_path)
    nox_keys = {"torch", "python", "date", "passed", "failed", "skipped", "seconds"}
    assert nox_keys | {"left_out", "failed_tests"} <= set(record)
    assert (record["passed"], record["failed"], record["skipped"]) == (3, 3, 2)
    assert record["torch"] == "2.11.0" and record["devices"] == ["cpu", "cuda"]
    assert record["not_at_their_pin"] == {"accelerate": "1.15.0"}
    assert (
        record["failed_tests"][0]
        == "tests.test_examples::test_example[cpu-examples/versions/old_file.py]"
    )

    messages = {
        "a tensor on cuda:1 with 1 GPU": "RuntimeError: CUDA error: invalid device ordinal"
    }
    lines = gpu_run.summary_lines(
        FACTS,
        "2.14.1",
        record,
        outcomes,
        messages,
        "wheels: 30",
        "benchmark: 1 GB",
        420,
    )
    text = "\n".join(lines)
    assert len(lines) <= 24 and max(map(len, lines)) <= 200, text
    assert (
        "torch 2.11.0+cu130 is not the pin (2.14.1): recorded as release 2.11.0" in text
    )
    assert (
        "1 failed at the quote check: their pages quote the script per release, not for 2.11"
        in text
    )
    assert "FAILED test_examples::test_example[cuda-examples/load/eval_mode.py]" in text
    assert "not at their pin: accelerate 1.15.0" in text
    assert (
        "1 cuda cases SKIPPED on a GPU machine: test_examples::test_example[cuda-"
        in text
    )
    assert [o.test for o in gpu_run.cuda_skipped(outcomes)] == [
        "tests.test_examples::test_example[cuda-examples/safety/weights_only.py]"
    ]
    assert "cuda: 2/2/1" in text and "cpu: 1/1/0" in text


def test_the_hook_shows_cuda_only_for_the_releases_seen_on(tmp_path):
    _, gpu_record = fixed_record(tmp_path)
    cpu_records = [
        {
            "torch": t,
            "left_out": [],
            "failed": 0,
            "failed_tests": [],
            "ran": gpu_record["ran"],
        }
        for t in ("2.14.1", "2.13.0")
    ]
    records = sorted([*cpu_records, gpu_record], key=versions.record_key, reverse=True)
    cases = {  # the page, what it includes -> CPU releases, GPU releases
        "docs/versions.md": (
            "examples/versions/old_file.py",
            ["2.14.1", "2.13.0"],
            ["2.11.0"],
        ),
        "docs/load.md": (
            "examples/load/eval_mode.py",
            ["2.14.1", "2.13.0", "2.11.0"],
            [],
        ),
        "docs/save.md": (
            "examples/save/state_dict.py",
            ["2.14.1", "2.13.0", "2.11.0"],
            ["2.11.0"],
        ),
    }
    for page, (script, cpu, gpu) in cases.items():
        markdown = f'# T\n\n```python\n--8<-- "{script}"\n```\n'
        assert versions.releases_for(page, markdown, records) == (cpu, {}), page
        found, names = versions.gpu_releases_for(page, markdown, records)
        assert found == gpu, page
        line = versions.tested_line(cpu, {}, found, names)
        # tests/test_docs.py reads the CPU releases the same way from the built page
        shown = re.search(r"PyTorch ([^<(]+) \(on the CPU[^)]*\)", line)[1].split(", ")
        assert shown == cpu
        if gpu:
            assert line.endswith(
                ", and with 2.11.0 on a GPU (NVIDIA H100 80GB HBM3).</p>"
            )
        else:
            assert "GPU" not in line


def test_the_benchmark_line_reads_its_targets(tmp_path):
    result = ROOT / "benchmarks" / "results" / "cuda.json"
    (tmp_path / "load_speed.json").write_text(result.read_text())
    line = gpu_run.benchmark_line(tmp_path, 0, 151.2, 1.0)
    assert line.startswith(
        "benchmark (load_speed.json/.md): 1 GB, 1 cold + 3 warm runs"
    )
    assert "\n  met: Target on cuda: mmap + meta + assign loads at least 10×" in line
    assert gpu_run.benchmark_line(tmp_path, None, 200, 1.0) == (
        "benchmark: stopped after 200 s (log.txt)"
    )
