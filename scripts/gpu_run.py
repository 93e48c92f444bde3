"""The GPU run: one command here to prepare it, one on the GPU machine to run it.

    .venv/bin/python scripts/gpu_run.py prepare     # here, with the registry reachable
    python3 scripts/gpu_run.py run                   # there, .gpu-wheels/ carried along

The GPU machine this is made for has no network and its own Python 3.12 with a
CUDA build of PyTorch (2.11 when last read), Lightning, transformers, safetensors,
pytest and pytest-xdist, and lacks the rest of what the tests need (the list is
ON_THE_GPU_MACHINE below).

`prepare` downloads, for Python 3.12 on x86-64 Linux, the wheel of every package
that the examples, their tests and the benchmark need and that machine lacks (or
has at another version than pyproject.toml pins), with their own needs, into
.gpu-wheels/ (git-ignored), and says its size. `--plan` only prints the decisions;
`--find-links DIR` takes the wheels from DIR instead of the registry.

`run` stops at once, with one line, where no CUDA GPU is visible. Otherwise it
installs the carried wheels (no network), runs the examples on cuda and on the
CPU (their quoted output checked), the pages' inline blocks, the GPU-saved
checkpoints' tests and the messages only a GPU prints (tests/test_gpu_only.py),
across every core, then `benchmarks/load_speed.py --device cuda --runs 3`, all
within --budget seconds. It writes into $OUT (build/gpu-run without it): junit.xml,
load_speed.json, load_speed.md, messages.json, log.txt, summary.txt (one screen),
and the run's record for the version matrix, <torch>-cuda.json (copy it into
matrix/). Exit status: 0 all passed, 1 something failed, 2 nothing could run.
"""

from __future__ import annotations

import argparse
import email.parser
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WHEELS = ROOT / ".gpu-wheels"  # git-ignored; name it in the device call's `carry`
PLAN_FILE = "plan.json"  # in WHEELS: what was carried, and why
CARRY_LIMIT_MIB = 64  # the working tree and the carried folder, together

# ----------------------------------------------------------------- the GPU machine

PYTHON = "3.12"
PLATFORMS = [
    "manylinux_2_39_x86_64",
    "manylinux_2_35_x86_64",
    "manylinux_2_34_x86_64",
    "manylinux_2_31_x86_64",
    "manylinux_2_28_x86_64",
    "manylinux_2_27_x86_64",
    "manylinux_2_24_x86_64",
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux1_x86_64",
]
MARKER_ENVIRONMENT = {
    "python_version": PYTHON,
    "python_full_version": PYTHON + ".3",
    "implementation_name": "cpython",
    "implementation_version": PYTHON + ".3",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "extra": "",
}

# What the GPU machine's Python holds, as read there on 2026-11-17 (`pip list`),
# with the versions that were read; None: there, version not read.
_SEEN_THERE = """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs
botorch build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy
coverage cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython
diffrax e3nn einops equinox etils execnet filelock flatbuffers flax fonttools formulaic
frozenlist fsspec gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub
humanize
hypothesis idna imageio iniconfig interface-meta jax jax-cuda13-pjrt jax-cuda13-plugin
jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning lightning-utilities
linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl
meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch mypy-extensions
nanobind
narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-ml-py onnx onnx-ir
onnxruntime onnxscript opencv-python-headless optax opt-einsum opt-einsum-fx optimistix
orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker
prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments
pyparsing pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock
pytest-timeout pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich
sacrebleu safetensors scikit-build-core scikit-image scikit-learn scipy seaborn
sentencepiece sentence-transformers setuptools shellingham simplejson six
sortedcontainers statsmodels sympy tabulate tensorboard tensorboard-data-server
tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch torchaudio
torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope triton
typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt
xarray xxhash yarl zipp
"""
VERSIONS_SEEN_THERE = {
    "accelerate": "1.15.0",
    "huggingface-hub": "1.33.0",
    "numpy": "2.5.2",
    "pytorch-lightning": "2.6.6",
    "safetensors": "0.8.0",
    "tokenizers": "0.23.2",
    "torch": "2.11.0",
    "torchvision": "0.26.0",
    "transformers": "5.17.0",
    "triton": "3.6.0",
}
ON_THE_GPU_MACHINE = {
    name: VERSIONS_SEEN_THERE.get(name) for name in _SEEN_THERE.split()
}

# Never carried: the run tests the machine's own CUDA build of torch.
ITS_OWN = ("torch", "torchvision", "torchaudio", "triton", "nvidia-", "cuda-")
# What the GPU run does not do, so it carries nothing for it.
NOT_NEEDED = {
    "mkdocs": "the site build",
    "mkdocs-material": "the site build",
    "pymdown-extensions": "the site build",
    "jupytext": "the site build (notebook pages)",
    "nbclient": "the site build (notebook pages)",
    "ipykernel": "the site build (notebook pages)",
    "playwright": "the browser tests",
    "axe-playwright-python": "the browser tests",
    "nox": "the version matrix",
}


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


# ----------------------------------------------------------------- prepare


@dataclass
class Decision:
    name: str
    requirement: str  # as pyproject.toml or a wheel's metadata says it
    action: str  # "carry", "there" or "left out"
    why: str
    wanted: str = ""  # what pip is asked for: "keras==3.15.1"
    wheel: str = ""  # the file, once fetched
    needed_by: str = ""  # the package whose metadata asked for it ("": pyproject)


def bounded(specifier):
    """Whether a specifier pins a version or caps it (==, <, <=, ~=, !=)."""
    return any(s.operator not in (">=", ">") for s in specifier)


def version_here(name):
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def decide(requirement, needed_by="", on_machine=None):
    """Carry a package's wheel, or find it on the GPU machine, or leave it out."""
    on_machine = ON_THE_GPU_MACHINE if on_machine is None else on_machine
    name = canonical(requirement.name)
    spec = requirement.specifier
    d = Decision(name, str(requirement), "carry", "", needed_by=needed_by)
    if name in ITS_OWN or name.startswith(ITS_OWN[-2:]):
        d.action, d.why = "there", "the machine's own CUDA build is what the run tests"
    elif name in NOT_NEEDED:
        d.action, d.why = "left out", f"only for {NOT_NEEDED[name]}"
    elif name in on_machine:
        seen = on_machine[name]
        if seen is not None and spec.contains(seen, prereleases=True):
            d.action, d.why = "there", f"{seen} there"
        elif seen is not None:
            d.why = f"{seen} there, {spec} needed"
        elif needed_by or not bounded(spec):
            d.action, d.why = "there", "there (version not read)"
        else:
            d.why = "there at a version not read: carried at its pin"
    else:
        d.why = "not on the GPU machine"
    if d.action == "carry":
        here = version_here(name)
        if here and spec.contains(here, prereleases=True):
            d.wanted = f"{name}=={here}"  # what the tests here ran with
        else:
            d.wanted = f"{name}{spec}"
    return d


def project_requirements(pyproject):
    """pyproject.toml's dependencies and test extras, as Requirement objects."""
    import tomllib
    from packaging.requirements import Requirement

    project = tomllib.loads(Path(pyproject).read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["test"]
    return [Requirement(r) for r in listed]


def wheel_requirements(wheel):
    """The requirements a wheel's METADATA lists that apply on the GPU machine."""
    from packaging.requirements import Requirement

    with zipfile.ZipFile(wheel) as z:
        meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        message = email.parser.Parser().parsestr(z.read(meta).decode())
    found = []
    for line in message.get_all("Requires-Dist") or []:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(MARKER_ENVIRONMENT):
            found.append(req)
    return found


def wheel_named(folder, name):
    from packaging.utils import parse_wheel_filename

    for wheel in sorted(Path(folder).glob("*.whl")):
        if canonical(parse_wheel_filename(wheel.name)[0]) == name:
            return wheel
    return None


def pip(*args, quiet=True):
    command = [sys.executable, "-m", "pip", *args] + (["-q"] if quiet else [])
    return subprocess.run(command, capture_output=True, text=True)


def download(wanted, dest, source_args):
    """pip download, for Python 3.12 on x86-64 Linux, wheels only, no dependencies."""
    platforms = [a for p in PLATFORMS for a in ("--platform", p)]
    return pip(
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        *platforms,
        "--dest",
        str(dest),
        *source_args,
        *wanted,
    )


def fetch(decisions, dest, source_args):
    """Each decision's wheel: all in one download, then one by one what is missing,
    building the wheel where there is only a source distribution."""
    from packaging.utils import parse_wheel_filename

    wanted = [d.wanted for d in decisions]
    got = download(wanted, dest, source_args)
    missing = re.findall(r"No matching distribution found for (\S+)", got.stderr)
    if got.returncode != 0 and set(missing) & set(wanted):  # the rest in one go
        download([w for w in wanted if w not in missing], dest, source_args)
    for decision in decisions:
        wheel = wheel_named(dest, decision.name)
        if wheel is None:
            got = download([decision.wanted], dest, source_args)
            wheel = wheel_named(dest, decision.name)
        if wheel is None:
            # Only a source distribution (deepspeed): build the wheel here. Pure
            # Python only: a wheel built here for another Python would not load there.
            built = pip(
                "wheel",
                "--no-deps",
                "--wheel-dir",
                str(dest),
                *source_args,
                decision.wanted,
            )
            wheel = wheel_named(dest, decision.name)
            if wheel is None:
                last = (got.stderr + built.stderr).strip().splitlines()[-1:]
                raise SystemExit(
                    f"{decision.wanted}: no wheel for Python {PYTHON}: {last}"
                )
            tags = {str(t) for t in parse_wheel_filename(wheel.name)[3]}
            if tags != {"py3-none-any"}:
                wheel.unlink()
                raise SystemExit(
                    f"{decision.wanted}: only a source distribution, which builds "
                    f"{wheel.name} here; that does not load on Python {PYTHON}"
                )
        decision.wheel = wheel.name
        print(f"  {wheel.name}", flush=True)


def working_tree_bytes(root=ROOT):
    """What travels with the run besides the carried folder: tracked files and
    untracked files git does not ignore (links count as links)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    total = 0
    for name in filter(None, listed.stdout.split("\0")):
        with_path = Path(root) / name
        if with_path.is_symlink() or with_path.is_file():
            total += with_path.lstat().st_size
    return total


def mib(n):
    return n / 2**20


def plan_lines(decisions):
    width = max(len(d.name) for d in decisions)
    return [
        f"{d.action:8} {d.name:{width}}  {d.wanted or d.requirement}  ({d.why}"
        + (f"; for {d.needed_by}" if d.needed_by else "")
        + ")"
        for d in decisions
    ]


def prepare(args):
    top = [decide(r) for r in project_requirements(args.pyproject)]
    if args.plan:
        print("\n".join(plan_lines(top)))
        return 0
    source_args = ["--no-index", "--find-links", str(args.find_links)]
    source_args = source_args if args.find_links else []
    dest = Path(args.dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    started = time.perf_counter()
    decisions = list(top)
    level = [d for d in top if d.action == "carry"]  # then what they need, and so on
    while level:
        fetch(level, dest, source_args)
        needed = []
        for decision in level:
            for req in wheel_requirements(dest / decision.wheel):
                if canonical(req.name) not in {d.name for d in decisions}:
                    decisions.append(decide(req, needed_by=decision.name))
                    needed.append(decisions[-1])
        level = [d for d in needed if d.action == "carry"]
    carried = [d for d in decisions if d.action == "carry"]
    wheels_bytes = sum(p.stat().st_size for p in dest.glob("*.whl"))
    tree_bytes = working_tree_bytes()
    together = wheels_bytes + tree_bytes
    record = {
        "python": PYTHON,
        "made": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wheels_bytes": wheels_bytes,
        "working_tree_bytes": tree_bytes,
        "decisions": [asdict(d) for d in decisions],
    }
    (dest / PLAN_FILE).write_text(json.dumps(record, indent=1) + "\n")
    if args.verbose:
        print("\n".join(plan_lines(decisions)))
    line = (
        f"{rel(dest)}: {len(carried)} wheels, {mib(wheels_bytes):.1f} MiB; with the "
        f"working tree ({mib(tree_bytes):.1f} MiB) {mib(together):.1f} MiB of the "
        f"{CARRY_LIMIT_MIB} MiB a device run carries "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(line)
    if together > CARRY_LIMIT_MIB * 2**20:
        print(f"too big to carry: {line}", file=sys.stderr)
        return 1
    return 0


def rel(path):
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


# ----------------------------------------------------------------- run

# What the GPU run runs: every example on cpu and cuda (quotes checked on the CPU
# run), the GPU-saved checkpoints, the messages only a GPU prints, the inline blocks
# (several pick the GPU themselves). Not the site build, lint or browser tests.
GPU_TESTS = [
    "tests/test_examples.py",
    "tests/test_gpu_checkpoints.py",
    "tests/test_gpu_only.py",
    "tests/test_docs.py::test_inline_block",
]
BENCHMARK_GB = 1.0  # about 2.5 minutes with --runs 3 on the H100 machine's 16 cores
BENCHMARK_SECONDS = 200  # what to keep for it


def no_gpu():
    """One line when no CUDA GPU is visible, else None (torch imported here only)."""
    try:
        import torch
    except ImportError as error:
        return f"no GPU run: torch does not import here ({error})"
    if not torch.cuda.is_available():
        visible = os.environ.get("CUDA_VISIBLE_DEVICES", "unset")
        return (
            f"no GPU run: torch {torch.__version__} sees no CUDA GPU here "
            f"(CUDA_VISIBLE_DEVICES={visible!r}); nothing was run"
        )
    return None


def gpu_facts():
    import torch

    count = torch.cuda.device_count()
    names = sorted({torch.cuda.get_device_name(i) for i in range(count)})
    nccl = None
    try:
        nccl = ".".join(map(str, torch.cuda.nccl.version()))
    except Exception:  # no NCCL in this build
        pass
    return {
        "torch_build": torch.__version__,
        "torch": torch.__version__.split("+")[0],
        "cuda": torch.version.cuda,
        "gpu": ", ".join(names),
        "gpus": count,
        "nccl": nccl,
    }


def pytest_command(junit, workers):
    """The tests, with only the plugins they use: the machine's own (pytest-cov,
    -benchmark, -timeout...) stay out (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 in run())."""
    return [
        sys.executable,
        "-m",
        "pytest",
        *GPU_TESTS,
        "-p",
        "xdist.plugin",
        "-p",
        "pytest_examples",
        "-n",
        str(workers),
        "--dist",
        "loadgroup",
        "-p",
        "no:cacheprovider",
        f"--junitxml={junit}",
        "-q",
        "-ra",
    ]


def benchmark_command(out, size_gb):
    return [
        sys.executable,
        "benchmarks/load_speed.py",
        "--size-gb",
        str(size_gb),
        "--device",
        "cuda",
        "--runs",
        "3",
        "--out",
        str(Path(out) / "load_speed.json"),
        "--markdown",
        str(Path(out) / "load_speed.md"),
    ]


def run_logged(command, log, env, timeout):
    """Run a command, its output appended to the log; (exit status or None, seconds)."""
    started = time.perf_counter()
    with open(log, "a") as f:
        f.write(f"\n$ {' '.join(map(str, command))}\n")
        f.flush()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=f,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = process.wait(timeout=max(timeout, 1))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code = None
            f.write(f"\n(stopped after {timeout:.0f} s)\n")
    return code, time.perf_counter() - started


def install_wheels(wheels, site, log):
    found = sorted(Path(wheels).glob("*.whl"))
    command = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps"]
    command += [
        "--no-compile",
        "--no-cache-dir",
        "--target",
        str(site),
        *map(str, found),
    ]
    code, seconds = run_logged(command, log, os.environ.copy(), 300)
    return found, code, seconds


def unmet_requirements(site, wheels):
    """The carried packages' requirements that the machine and the wheels together
    do not meet (read with the wheels first on the path, as the tests see them)."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.utils import parse_wheel_filename

    sys.path.insert(0, str(site))
    unmet = []
    for wheel in wheels:
        name = parse_wheel_filename(Path(wheel).name)[0]
        for req in wheel_requirements(wheel):
            try:
                found = distribution(req.name).version
            except PackageNotFoundError:
                found = None
            if found is None or not req.specifier.contains(found, prereleases=True):
                unmet.append(f"{name} needs {req}, found {found or 'none'}")
    return sorted(set(unmet))


def pinned_versions(site):
    """Each pyproject.toml requirement: the version found (wheels first), its pin."""
    from importlib.metadata import PackageNotFoundError, distribution

    sys.path.insert(0, str(site))
    rows = {}
    for req in project_requirements(ROOT / "pyproject.toml"):
        if canonical(req.name) in NOT_NEEDED:
            continue
        try:
            found = distribution(req.name).version
        except PackageNotFoundError:
            found = None
        rows[canonical(req.name)] = {
            "found": found,
            "wanted": str(req.specifier),
            "meets": found is not None and req.specifier.contains(found, True),
        }
    return rows


DEVICE_OF_TEST = re.compile(r"\[(cpu|cuda|mps)[-\]]")


def device_of(test):
    """The device a test ran on, from its id ("...[cuda-examples/...]"); None: any."""
    if "test_gpu_only" in test:
        return "cuda"
    m = DEVICE_OF_TEST.search(test)
    return m[1] if m else None


@dataclass
class Outcome:
    test: str
    result: str  # passed, failed, skipped
    message: str = ""


def read_junit(junit):
    """Every test case's outcome, and the suite's seconds."""
    root = ET.parse(junit).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    outcomes = []
    for case in suite.iter("testcase"):
        test = f"{case.get('classname')}::{case.get('name')}"
        result, message = "passed", ""
        for tag, name in (
            ("failure", "failed"),
            ("error", "failed"),
            ("skipped", "skipped"),
        ):
            found = case.find(tag)
            if found is not None:
                result, message = name, found.get("message") or ""
                break
        outcomes.append(Outcome(test, result, message))
    return outcomes, float(suite.get("time") or 0)


def matrix_record(outcomes, seconds, facts, libraries, day):
    """The run as the version matrix records a release (noxfile.py), with the
    devices it ran on: hooks/versions.py shows its cuda results for it alone."""
    count = {
        r: sum(o.result == r for o in outcomes) for r in ("passed", "failed", "skipped")
    }
    return {
        "torch": facts["torch"],
        "python": platform.python_version(),
        "date": day,
        "passed": count["passed"],
        "failed": count["failed"],
        "skipped": count["skipped"],
        "seconds": round(seconds),
        "left_out": [],
        "ran": sorted(
            {
                name
                for o in outcomes
                if o.result != "skipped"
                for name in re.findall(
                    r"(?:examples|docs)/[\w./-]+?\.(?:py|md)", o.test
                )
            }
        ),
        "failed_tests": sorted(o.test for o in outcomes if o.result == "failed"),
        "devices": ["cpu", "cuda"],
        "gpu": facts["gpu"],
        "gpus": facts["gpus"],
        "torch_build": facts["torch_build"],
        "cuda": facts["cuda"],
        "not_at_their_pin": {
            name: row["found"] for name, row in libraries.items() if not row["meets"]
        },
        "test_files": GPU_TESTS,
    }


def cuda_skipped(outcomes):
    """cuda cases that skipped: none should, where a GPU is (two nccl ranks on one
    GPU aside, which needs exactly one)."""
    return [
        o
        for o in outcomes
        if device_of(o.test) == "cuda"
        and o.result == "skipped"
        and "exactly one GPU" not in o.message
    ]


def by_device(outcomes):
    counts = {}
    for o in outcomes:
        key = device_of(o.test) or "either"
        counts.setdefault(key, {"passed": 0, "failed": 0, "skipped": 0})[o.result] += 1
    return counts


def first_line(text, width=150):
    line = next((x for x in text.strip().splitlines() if x.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def summary_lines(facts, pin, record, outcomes, messages, wheels_line, bench, seconds):
    lines = [
        f"GPU run, {record['date']}, {seconds:.0f} s: {facts['gpus']} x "
        f"{facts['gpu']}, CUDA {facts['cuda']}, NCCL {facts['nccl'] or 'none'}, "
        f"Python {record['python']}",
    ]
    if facts["torch"] != pin:
        lines.append(
            f"torch {facts['torch_build']} is not the pin ({pin}): recorded as release "
            f"{facts['torch']} of the matrix, in {facts['torch']}-cuda.json "
            "(copy it into matrix/)"
        )
    else:
        lines.append(f"torch {facts['torch_build']}, the pin; record {pin}-cuda.json")
    off = record["not_at_their_pin"]
    if off:
        lines.append(
            "not at their pin: " + ", ".join(f"{n} {v}" for n, v in sorted(off.items()))
        )
    lines.append(wheels_line)
    counts = by_device(outcomes)
    lines.append(
        f"tests (junit.xml): {record['passed']} passed, {record['failed']} failed, "
        f"{record['skipped']} skipped in {record['seconds']} s; "
        + "; ".join(
            f"{d}: {c['passed']}/{c['failed']}/{c['skipped']}"
            for d, c in sorted(counts.items())
        )
        + " (passed/failed/skipped)"
    )
    skipped = cuda_skipped(outcomes)
    if skipped:
        lines.append(
            f"  {len(skipped)} cuda cases SKIPPED on a GPU machine: "
            f"{short(skipped[0].test)}: {first_line(skipped[0].message, 80)}"
        )
    failed = [o for o in outcomes if o.result == "failed"]
    release = release_of(facts["torch"])
    unquoted = [o for o in failed if f"but not on {release}:" in o.message]
    if unquoted:
        lines.append(
            f"  {len(unquoted)} failed at the quote check: their pages quote the "
            f"script per release, not for {release}: "
            + ", ".join(short(o.test) for o in unquoted[:4])
            + (" ..." if len(unquoted) > 4 else "")
        )
    for o in [o for o in failed if o not in unquoted][:6]:
        lines.append(f"  FAILED {short(o.test)}: {first_line(o.message, 100)}")
    if len(failed) - len(unquoted) > 6:
        lines.append(f"  ... {len(failed) - len(unquoted) - 6} more failed (junit.xml)")
    distributed = [
        o for o in outcomes if "examples/distributed/" in o.test and "[cuda" in o.test
    ]
    if distributed:
        ok = all(o.result == "passed" for o in distributed)
        lines.append(
            f"distributed examples on cuda ({len(distributed)}): "
            + ("passed" if ok else "FAILED")
            + f", nccl with {min(facts['gpus'], 2)} rank(s)"
            + (
                "; one GPU: one nccl rank per GPU, so 1 rank"
                if facts["gpus"] == 1
                else ""
            )
        )
    lines.append("messages only a GPU prints (messages.json):")
    for key, text in messages.items():
        lines.append(f"  {key}: {first_line(text, 120)}")
    if not messages:
        lines.append("  none recorded")
    lines.append(bench)
    return lines


def short(test):
    return test.replace("tests.", "").replace("tests/", "")


def release_of(version):
    m = re.match(r"(\d+)\.(\d+)", version)
    return f"{m[1]}.{m[2]}" if m else version


def benchmark_line(out, code, seconds, size_gb):
    if code is None:
        return f"benchmark: stopped after {seconds:.0f} s (log.txt)"
    if code != 0:
        return (
            f"benchmark: FAILED with exit status {code} after {seconds:.0f} s (log.txt)"
        )
    result = json.loads((Path(out) / "load_speed.json").read_text())
    targets = [
        f"{'met' if met else 'NOT met' if met is False else 'note'}: {line}"
        for line, met in result.get("targets", [])
    ]
    return "\n".join(
        [
            f"benchmark (load_speed.json/.md): {size_gb:g} GB, 1 cold + 3 warm runs, "
            f"{seconds:.0f} s"
        ]
        + [f"  {first_line(t, 140)}" for t in targets[:3]]
    )


def read_messages(path):
    messages = {}
    if Path(path).is_file():
        for line in Path(path).read_text().splitlines():
            if line.strip():
                entry = json.loads(line)
                messages[entry["key"]] = entry["message"]
    return dict(sorted(messages.items()))


def run(args):
    started = time.perf_counter()
    out = Path(os.environ.get("OUT") or args.out or ROOT / "build" / "gpu-run")
    out.mkdir(parents=True, exist_ok=True)
    problem = no_gpu()
    if problem is None and not (Path(args.wheels) / PLAN_FILE).is_file():
        problem = (
            f"no GPU run: {rel(args.wheels)} is missing: run `python "
            "scripts/gpu_run.py prepare` where the registry is reachable, and carry it"
        )
    if problem:
        (out / "summary.txt").write_text(problem + "\n")
        print(problem, file=sys.stderr)
        return 2
    log = out / "log.txt"
    log.write_text("")
    deadline = started + args.budget

    site = Path(tempfile.mkdtemp(prefix="gpu-run-site-"))
    wheels, code, install_s = install_wheels(args.wheels, site, log)
    if code != 0:
        message = "no GPU run: the carried wheels did not install (log.txt)"
        (out / "summary.txt").write_text(message + "\n")
        print(message, file=sys.stderr)
        return 2
    plan = json.loads((Path(args.wheels) / PLAN_FILE).read_text())
    unmet = unmet_requirements(site, wheels)
    wheels_line = (
        f"wheels: {len(wheels)} from {rel(args.wheels)} "
        f"({mib(plan['wheels_bytes']):.1f} MiB, made {plan['made'][:10]}) installed "
        f"in {install_s:.0f} s; unmet needs: " + ("; ".join(unmet) if unmet else "none")
    )
    facts = gpu_facts()
    libraries = pinned_versions(site)

    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(site), env.get("PYTHONPATH")])
    )
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    messages_file = Path(tempfile.mkdtemp(prefix="gpu-run-")) / "messages.jsonl"
    env["GPU_RUN_MESSAGES"] = str(messages_file)
    junit = out / "junit.xml"
    workers = args.workers or os.cpu_count() or 1
    test_time = deadline - time.perf_counter() - BENCHMARK_SECONDS
    code, test_s = run_logged(pytest_command(junit, workers), log, env, test_time)
    if junit.is_file():
        outcomes, suite_s = read_junit(junit)
    else:
        outcomes, suite_s = [], test_s
    day = datetime.now(timezone.utc).date().isoformat()
    record = matrix_record(outcomes, suite_s, facts, libraries, day)
    if code is None:
        record["stopped_after_s"] = round(test_s)
    messages = read_messages(messages_file)
    (out / "messages.json").write_text(json.dumps(messages, indent=1) + "\n")
    (out / f"{facts['torch']}-cuda.json").write_text(
        json.dumps(record, indent=2) + "\n"
    )

    left = deadline - time.perf_counter()
    if args.benchmark_gb and left > 60:
        command = benchmark_command(out, args.benchmark_gb)
        bench_code, bench_s = run_logged(command, log, env, left - 10)
        bench = benchmark_line(out, bench_code, bench_s, args.benchmark_gb)
    else:
        bench_code, bench = 1, f"benchmark: not run ({left:.0f} s left of the budget)"

    import tomllib

    pin = next(
        r.split("==")[1]
        for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "dependencies"
        ]
        if r.startswith("torch==")
    )
    lines = summary_lines(
        facts,
        pin,
        record,
        outcomes,
        messages,
        wheels_line,
        bench,
        time.perf_counter() - started,
    )
    if code is None:
        lines.insert(
            3, f"tests: STOPPED after {test_s:.0f} s (the budget); junit.xml is partial"
        )
    text = "\n".join(lines) + "\n"
    (out / "summary.txt").write_text(text)
    print(text)
    all_passed = code == 0 and bench_code == 0 and record["failed"] == 0
    all_passed = all_passed and not cuda_skipped(outcomes)
    return 0 if all_passed else 1


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("prepare", help="here: the wheels the GPU machine lacks")
    p.add_argument("--dest", default=WHEELS, help="default: .gpu-wheels")
    p.add_argument("--pyproject", default=ROOT / "pyproject.toml")
    p.add_argument("--find-links", help="take the wheels from this folder, no index")
    p.add_argument("--plan", action="store_true", help="print the decisions only")
    p.add_argument("--verbose", action="store_true", help="print every decision")
    r = commands.add_parser("run", help="there: everything, within --budget seconds")
    r.add_argument("--wheels", default=WHEELS, help="default: .gpu-wheels")
    r.add_argument("--out", help="the output folder when $OUT is unset")
    r.add_argument("--budget", type=float, default=560, help="seconds (default: 560)")
    r.add_argument("--workers", type=int, help="pytest-xdist workers (default: cores)")
    r.add_argument(
        "--benchmark-gb", type=float, default=BENCHMARK_GB, help="0: no benchmark"
    )
    args = parser.parse_args(argv)
    return prepare(args) if args.command == "prepare" else run(args)


if __name__ == "__main__":
    sys.exit(main())
