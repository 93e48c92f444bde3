"""Time each way to load a big PyTorch model, and the saves that write its files.

    python benchmarks/load_speed.py --size-gb 1.0 --device cpu --runs 3 \
        --out benchmarks/results/cpu.json --markdown benchmarks/results/cpu.md

The model is an nn.Sequential of N x nn.Linear(W, W) in float32, W chosen so that its
state_dict holds at least --size-gb GB (10**9 bytes). Each load runs in a fresh process
(this script, started again with --child); the import of torch and CUDA's start-up are
not timed. The child reports its time and peak host memory as one line of JSON.

Each round runs every method once: first --cold-runs rounds with the file evicted from
the page cache, then --runs rounds with the file cached. Medians are reported. See
benchmarks/README.md for what each figure means.
"""

import argparse
import contextlib
import ctypes
import datetime
import gc
import json
import math
import mmap
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil
import safetensors
import torch
from safetensors.torch import load_file, save_file
from torch import nn

ALL = ("cpu", "cuda")
RECOMMENDED = "mmap_meta_assign"
# --reuse-child (the smoke test's shortcut) is refused for a model this big or bigger
REUSE_CHILD_BELOW_BYTES = 10**8


class Big(nn.Sequential):
    """`layers` x nn.Linear(width, width), float32: a model of a chosen size."""

    def __init__(self, layers, width):
        super().__init__(*(nn.Linear(width, width) for _ in range(layers)))


def state_dict_bytes(layers, width):
    return layers * (width * width + width) * 4


def width_for(size_gb, layers):
    """The smallest multiple of 64 that makes the state_dict at least size_gb GB."""
    return max(64, math.ceil(math.sqrt(size_gb * 1e9 / (4 * layers)) / 64) * 64)


def probe_values(model):
    """A few values of the model, to check that a load got what was saved."""
    return [*model[0].weight[0, :4].tolist(), *model[-1].bias[-4:].tolist()]


# ---------------------------------------------------------------- the ways to load


@dataclass
class Job:
    """What one load needs, all made before the clock starts."""

    path: str
    device: torch.device
    layers: int
    width: int
    pinned: torch.Tensor | None = None  # h2d_pinned's host tensor


def meta_model(job):
    with torch.device("meta"):
        return Big(job.layers, job.width)


def read_raw(job):
    with open(job.path, "rb") as f:
        return f.read()


def copy_pinned(job):
    return job.pinned.to(job.device)


def init_only(job):
    return Big(job.layers, job.width).to(job.device)


def usual_recipe(job):
    model = Big(job.layers, job.width)
    model.load_state_dict(torch.load(job.path, weights_only=True))
    return model.to(job.device)


def meta_assign(job):
    model = meta_model(job)
    state_dict = torch.load(job.path, map_location="cpu", weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    return model.to(job.device)


def map_location(job):
    model = meta_model(job)
    state_dict = torch.load(job.path, map_location=job.device, weights_only=True)
    model.load_state_dict(state_dict, assign=True)
    return model


def mmap_meta_assign(job):
    state_dict = torch.load(job.path, mmap=True, map_location="cpu", weights_only=True)
    model = meta_model(job)
    model.load_state_dict(state_dict, assign=True)
    return model.to(job.device)


def safetensors_load(job):
    model = meta_model(job)
    model.load_state_dict(load_file(job.path, device=str(job.device)), assign=True)
    return model.to(job.device)


@dataclass(frozen=True)
class Method:
    name: str
    label: str  # its row in the table
    what: str  # what it does, in Markdown
    devices: tuple[str, ...]  # the device types it runs on
    run: Callable[[Job], object]  # the load: returns a model, bytes or a tensor
    reads: str = "torch"  # the file it is given: "torch" or "safetensors"
    pinned: bool = False  # needs a pinned host tensor of the model's size


# In the tables' order.
METHODS = [
    Method(
        "raw_read",
        "raw read (floor)",
        '`open(path, "rb").read()`: the file\'s bytes, nothing else',
        ALL,
        read_raw,
    ),
    Method(
        "h2d_pinned",
        "host→device copy (floor)",
        "one pinned host tensor of the model's size `.to(device)`",
        ("cuda",),
        copy_pinned,
        pinned=True,
    ),
    Method(
        "init_only",
        "empty instance",
        "`Big()` then `.to(device)`: random initialisation, no checkpoint",
        ALL,
        init_only,
    ),
    Method(
        "recipe",
        "the usual recipe",
        "`model = Big()`; `model.load_state_dict(torch.load(path))`; "
        "`model.to(device)`",
        ALL,
        usual_recipe,
    ),
    Method(
        "meta_assign",
        "meta + load + assign",
        'meta model; `torch.load(path, map_location="cpu")`; '
        "`load_state_dict(sd, assign=True)`; `.to(device)`",
        ALL,
        meta_assign,
    ),
    Method(
        "map_location",
        "map_location to the device",
        "meta model; `torch.load(path, map_location=device)`; `assign=True`",
        ("cuda",),
        map_location,
    ),
    Method(
        "mmap_meta_assign",
        "mmap + meta + assign",
        '`torch.load(path, mmap=True, map_location="cpu")`; meta model; '
        "`assign=True`; `.to(device)`",
        ALL,
        mmap_meta_assign,
    ),
    Method(
        "safetensors",
        "safetensors",
        "meta model; `safetensors.torch.load_file(path, device=device)`; `assign=True`",
        ALL,
        safetensors_load,
        reads="safetensors",
    ),
]
BY_NAME = {method.name: method for method in METHODS}


def methods_for(device_type, names=None):
    """The methods that run on this device type, in the tables' order.

    `names`: only those of these names (the others are left out).
    """
    return [
        method
        for method in METHODS
        if device_type in method.devices and (names is None or method.name in names)
    ]


# ---------------------------------------------------------------- the child


def status_kb(field):
    """A field of /proc/self/status in kB (VmRSS: resident now, VmHWM: its peak)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


class PeakRSS:
    """This process's peak resident memory during a block, above its RSS at the start.

    Linux keeps the peak RSS (VmHWM) and resets it to the current RSS when "5" is
    written to /proc/self/clear_refs: reset, run the block, read VmHWM. That catches
    every peak exactly. Where the reset is refused, a thread samples VmRSS every
    millisecond instead (it can miss a peak shorter than that).
    """

    def __enter__(self):
        self.base_kb = status_kb("VmRSS")
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            # a working reset leaves the high-water mark at the current RSS
            reset = status_kb("VmHWM") <= status_kb("VmRSS") + 1024
        except OSError:
            reset = False
        self.how = "VmHWM reset" if reset else "VmRSS sampled every 1 ms"
        self.samples = [self.base_kb]
        self.done = threading.Event()
        if not reset:
            self.thread = threading.Thread(target=self.sample, daemon=True)
            self.thread.start()
        return self

    def sample(self):
        while not self.done.wait(0.001):
            self.samples.append(status_kb("VmRSS"))

    def __exit__(self, *exc):
        self.done.set()
        if self.how.startswith("VmHWM"):
            self.peak_kb = status_kb("VmHWM")
        else:
            self.thread.join()
            self.peak_kb = max(*self.samples, status_kb("VmRSS"))


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def read_every_page(model):
    """Read one value from every 4 KiB page of every weight: the first use.

    A load from a memory-mapped file returns before it reads the file: the pages
    are read when first touched. This makes that cost visible.
    """
    for param in model.parameters():
        flat = param.detach().view(-1)
        flat[:: 4096 // flat.element_size()].sum()


def what_was_loaded(loaded):
    """Untimed checks of a load's result; the parent compares them with the model."""
    if isinstance(loaded, nn.Module):
        params = list(loaded.parameters())
        return {
            "on_meta": sum(p.is_meta for p in params),
            "devices": sorted({p.device.type for p in params}),
            "probe": probe_values(loaded),
        }
    if isinstance(loaded, bytes):
        return {"bytes": len(loaded)}
    return {"bytes": loaded.numel(), "devices": [loaded.device.type]}


def measure(method, job):
    """Load once, then use the model once: the times, the peak memory, the checks."""
    if method.pinned:
        nbytes = state_dict_bytes(job.layers, job.width)
        job.pinned = torch.ones(nbytes, dtype=torch.uint8, pin_memory=True)
    gc.collect()
    with PeakRSS() as memory:
        start = time.perf_counter()
        loaded = method.run(job)
        synchronize(job.device)
        seconds = time.perf_counter() - start
        if isinstance(loaded, nn.Module):
            start = time.perf_counter()
            read_every_page(loaded)
            synchronize(job.device)
            first_use = time.perf_counter() - start
        else:
            first_use = None
    device = job.device
    return {
        "s": seconds,
        "first_use_s": first_use,
        "rss_base_kb": memory.base_kb,
        "rss_peak_kb": memory.peak_kb,
        "memory_measured_by": memory.how,
        "torch_threads": torch.get_num_threads(),
        "device_name": (
            torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
        ),
        **what_was_loaded(loaded),
    }


def release_memory():
    """Give freed memory back to the system, so that the next load starts level."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def child(args):
    """Load as asked on stdin (one JSON line each), answering one JSON line each."""
    device = torch.device(args.device)
    if device.type == "cuda":
        # CUDA's start-up and the first use's kernel: not timed
        torch.ones(8, device=device)[::2].sum()
        synchronize(device)
    for line in sys.stdin:
        request = json.loads(line)
        job = Job(request["file"], device, args.layers, args.width)
        print(json.dumps(measure(BY_NAME[request["method"]], job)), flush=True)
        release_memory()


# ---------------------------------------------------------------- the page cache


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def evict(path):
    """Drop the file's pages from the page cache (no root needed on Linux)."""
    fsync_path(path)  # dirty pages are not dropped: write them out first
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def read_through(path):
    """Read the whole file once, so that it sits in the page cache."""
    buffer = bytearray(16 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass


def cached_fraction(path):
    """Fraction of the file's pages in the page cache (mincore), or None if unknown."""
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as f:
            mapped = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_COPY)
        try:
            view = (ctypes.c_char * size).from_buffer(mapped)
            pages = (size + mmap.PAGESIZE - 1) // mmap.PAGESIZE
            vector = (ctypes.c_ubyte * pages)()
            libc = ctypes.CDLL(None, use_errno=True)
            failed = libc.mincore(
                ctypes.c_void_p(ctypes.addressof(view)), ctypes.c_size_t(size), vector
            )
            del view
            return None if failed else sum(v & 1 for v in vector) / pages
        finally:
            mapped.close()
    except (OSError, AttributeError, ValueError):
        return None


def prepare_page_cache(path, cold):
    """Evict the file (cold) or read it into the page cache (warm).

    Returns the fraction of its pages cached afterwards.
    """
    if cold:
        evict(path)
    else:
        read_through(path)
    return cached_fraction(path)


def check_eviction(path):
    """Does evicting work here? Check with mincore, and by timing a raw read."""
    evict(path)
    after_evict = cached_fraction(path)
    start = time.perf_counter()
    read_through(path)
    cold_read = time.perf_counter() - start
    start = time.perf_counter()
    read_through(path)
    warm_read = time.perf_counter() - start
    return {
        "cached_fraction_after_evict": after_evict,
        "cached_fraction_after_read": cached_fraction(path),
        "read_cold_s": cold_read,
        "read_warm_s": warm_read,
    }


# ---------------------------------------------------------------- the saves


def save_torch(state_dict, path):
    torch.save(state_dict, path)
    fsync_path(path)


def save_safetensors(state_dict, path):
    save_file(state_dict, path)
    fsync_path(path)


def save_atomic(state_dict, path):
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(state_dict, tmp)
        fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    fsync_path(path.parent)  # the rename itself reaches the disk


@dataclass(frozen=True)
class Save:
    name: str
    label: str  # its row in the table
    what: str  # what it does, in Markdown
    file: str  # the file it writes, in the work dir
    run: Callable[[dict, Path], None]


SAVES = [
    Save(
        "torch_save",
        "torch.save",
        "`torch.save(sd, path)`, then fsync",
        "big.pt",
        save_torch,
    ),
    Save(
        "safetensors_save",
        "safetensors save_file",
        "`save_file(sd, path)`, then fsync",
        "big.safetensors",
        save_safetensors,
    ),
    Save(
        "atomic_torch_save",
        "torch.save, atomic",
        "`torch.save` to a temp file in the same folder, fsync, `os.replace`, "
        "fsync the folder",
        "big-atomic.pt",
        save_atomic,
    ),
]
SAVES_BY_NAME = {save.name: save for save in SAVES}
# The files the loads read (Method.reads), written by the saves of the same name.
FILES = {"torch": "big.pt", "safetensors": "big.safetensors"}


# ---------------------------------------------------------------- the parent


def log(*parts):
    print(*parts, file=sys.stderr)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def median(values):
    return statistics.median(values) if values else None


def save_model_files(layers, width, work_dir, repeats):
    """Build the model (seed 0) and save it each way, `repeats` times, timed.

    Leaves the files the loads read in `work_dir`. Returns the probe values and the
    time of every save (from host memory, fsync included).
    """
    torch.manual_seed(0)
    model = Big(layers, width)
    state_dict = model.state_dict()
    times = {save.name: [] for save in SAVES}
    for _ in range(repeats):
        for save in SAVES:
            start = time.perf_counter()
            save.run(state_dict, work_dir / save.file)
            times[save.name].append(time.perf_counter() - start)
            log(f"  {save.name}: {times[save.name][-1]:.3f} s")
    (work_dir / SAVES_BY_NAME["atomic_torch_save"].file).unlink()
    return probe_values(model), times


def child_command(args):
    return [
        sys.executable,
        __file__,
        "--child",
        "--device",
        args.device,
        "--layers",
        str(args.layers),
        "--width",
        str(args.width),
    ]


def request(method, path):
    return json.dumps({"method": method.name, "file": str(path)}) + "\n"


@contextlib.contextmanager
def fresh_process_per_load(args):
    """The benchmark's way: each load in a new process, which exits after it."""

    def load(method, path):
        result = subprocess.run(
            child_command(args),
            input=request(method, path),
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{method.name} failed:\n{result.stderr}")
        return json.loads(result.stdout.strip().splitlines()[-1])

    yield load


@contextlib.contextmanager
def one_process_for_all(args):
    """The smoke test's shortcut (--reuse-child): every load in one child process.

    It saves starting Python and importing torch for each load, but a load then
    follows others in the same process: its times are not the benchmark's.
    """
    with tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            child_command(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )

        def load(method, path):
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(request(method, path))
                process.stdin.flush()
                for line in process.stdout:
                    if line.startswith("{"):
                        return json.loads(line)
            process.kill()
            process.wait()
            stderr.seek(0)
            raise RuntimeError(f"{method.name} failed:\n{stderr.read()}")

        try:
            yield load
        finally:
            with contextlib.suppress(BrokenPipeError):
                process.stdin.close()
            process.wait(timeout=60)


@dataclass(frozen=True)
class Saved:
    """What was saved, as a child's report must show it."""

    probe: list[float]  # probe_values() of the model
    nbytes: int  # the state_dict's size
    device_type: str  # where the loads must put it


def check(method, report, saved, file_bytes):
    """Fail loudly if a child did not load what was saved."""
    name = method.name
    if "probe" in report:
        if report["on_meta"] != 0:
            raise RuntimeError(f"{name}: {report['on_meta']} parameters left on meta")
        if name != "init_only" and report["probe"] != saved.probe:
            raise RuntimeError(f"{name}: loaded {report['probe']}, saved {saved.probe}")
    elif name == "raw_read":
        if report["bytes"] != file_bytes:
            raise RuntimeError(f"{name}: read {report['bytes']} of {file_bytes} bytes")
    elif report["bytes"] != saved.nbytes:
        raise RuntimeError(f"{name}: copied {report['bytes']} of {saved.nbytes} bytes")
    devices = report.get("devices", [saved.device_type])
    if devices != [saved.device_type]:
        raise RuntimeError(f"{name}: loaded onto {devices}, not {saved.device_type}")


def run_rounds(load, methods, files, cold_rounds, warm_rounds, saved):
    """Run every method once a round, round-robin: the cold rounds, then the warm.

    `load(method, path)` runs one load in a child; `saved` is what check() compares
    its report with. Returns every run's report, checked.
    """
    runs = []
    for round_number in range(cold_rounds + warm_rounds):
        cold = round_number < cold_rounds
        for method in methods:
            path = files[method.reads]
            cached = prepare_page_cache(path, cold)
            report = load(method, path)
            check(method, report, saved, path.stat().st_size)
            report.update(method=method.name, cold=cold, cached_fraction=cached)
            runs.append(report)
            log_run(report, saved.nbytes)
    return runs


def log_run(report, nbytes):
    extra = (report["rss_peak_kb"] - report["rss_base_kb"]) * 1024 / nbytes
    first_use = report["first_use_s"]
    log(
        f"  {report['method']} {'cold' if report['cold'] else 'warm'}: "
        f"load {report['s']:.3f} s, first use "
        f"{'-' if first_use is None else f'{first_use:.3f} s'}, {extra:.2f}x"
    )


# ---------------------------------------------------------------- the summary


@dataclass(frozen=True)
class Target:
    """What the recommended method must do on a device type, for a big enough model."""

    smallest_bytes: int  # a smaller model is not checked
    speedup_at_least: float  # than the usual recipe, warm medians
    memory_at_most: float | None  # peak host RSS, as a multiple of the model's size


TARGETS = {"cpu": Target(10**9, 5.0, 1.2), "cuda": Target(0, 10.0, None)}


def summarise_saves(times):
    """{save: [seconds, ...]} -> {save: {"runs_s": ..., "median_s": ...}}."""
    return {
        name: {"runs_s": runs, "median_s": median(runs)} for name, runs in times.items()
    }


def summarise(runs, methods, nbytes):
    """The medians of each method's runs (names in `methods`), and its peak memory."""
    summary = {}
    for method in methods:
        mine = [r for r in runs if r["method"] == method]
        warm = [r for r in mine if not r["cold"]]
        cold = [r for r in mine if r["cold"]]
        used = [r for r in warm if r["first_use_s"] is not None]
        summary[method] = {
            "warm_median_s": median([r["s"] for r in warm]),
            "cold_median_s": median([r["s"] for r in cold]),
            "warm_first_use_median_s": median([r["first_use_s"] for r in used]),
            "cold_first_use_median_s": median(
                [r["first_use_s"] for r in cold if r["first_use_s"] is not None]
            ),
            "warm_ready_median_s": median([r["s"] + r["first_use_s"] for r in used]),
            # the largest over all runs (load and first use): memory is what must fit
            "peak_rss_x": max(
                (r["rss_peak_kb"] - r["rss_base_kb"]) * 1024 / nbytes for r in mine
            ),
        }
    return summary


def speedup(summary, method, key="warm_median_s"):
    slow, fast = summary["recipe"][key], summary[method][key]
    return slow / fast if slow and fast else None


def fmt_s(seconds):
    return "—" if seconds is None else f"{seconds:.3g}"


def fmt_x(ratio):
    if ratio is None:
        return "—"
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def targets(summary, device_type, nbytes):
    """The checked targets, as (line, met) pairs; met is None for a note."""
    target = TARGETS[device_type]
    name = BY_NAME[RECOMMENDED].label
    if nbytes < target.smallest_bytes:
        note = f"not checked: the model is {nbytes / 1e9:.3g} GB, under 1 GB"
        return [(f"Target on {device_type}: {note}", None)]
    ratio = speedup(summary, RECOMMENDED)
    lines = [
        (
            f"Target on {device_type}: {name} loads at least "
            f"{target.speedup_at_least:g}× faster than the usual recipe (warm "
            f"medians): {fmt_x(ratio)}",
            ratio is not None and ratio >= target.speedup_at_least,
        )
    ]
    memory = summary[RECOMMENDED]["peak_rss_x"]
    if target.memory_at_most is not None:
        lines.append(
            (
                f"Target on {device_type}: {name} peaks at most "
                f"{target.memory_at_most:g}× the model's size in host memory, first "
                f"use included: {memory:.2f}×",
                memory <= target.memory_at_most,
            )
        )
    ready = speedup(summary, RECOMMENDED, "warm_ready_median_s")
    lines.append(
        (
            f"For comparison, load and first use together (warm): {name} is "
            f"{fmt_x(ready)} faster than the usual recipe",
            None,
        )
    )
    return lines


def environment(args, runs, load_before, page_cache):
    memory = psutil.virtual_memory()
    return {
        "date": datetime.date.today().isoformat(),
        "device": args.device,
        "device_name": runs[0]["device_name"] if runs else args.device,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "torch_threads": runs[0]["torch_threads"] if runs else None,
        "ram_bytes": memory.total,
        "ram_available_bytes": memory.available,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "memory_measured_by": sorted({r["memory_measured_by"] for r in runs}),
        "page_cache": page_cache,
    }


# ---------------------------------------------------------------- the Markdown


def n_runs(count, kind):
    return f"{count} {kind} run" + ("" if count == 1 else "s")


def markdown(result):
    """The tables and the targets, as the page includes them."""
    lines = [
        *intro(result),
        "",
        *loads_table(result["summary"], result["settings"]["runs"]),
        "",
        *saves_table(result["saves"]),
        "",
    ]
    for line, met in result["targets"]:
        verdict = "" if met is None else (" — **met**" if met else " — **NOT met**")
        lines.append(f"- {line}{verdict}")
    return "\n".join(lines) + "\n"


def intro(result):
    env, model, settings = result["environment"], result["model"], result["settings"]
    warm, cold = settings["runs"], settings["cold_runs"]
    return [
        f"Model: {model['layers']} × `nn.Linear({model['width']}, {model['width']})`, "
        f"float32, state_dict {model['state_dict_bytes'] / 1e9:.3g} GB. "
        f"Device: {env['device']} ({env['device_name']}). "
        f"Host: {env['cpu_count']} CPU cores, {env['ram_bytes'] / 2**30:.1f} GiB RAM. "
        f"torch {env['torch']}, safetensors {env['safetensors']}, "
        f"Python {env['python']}. Measured {env['date']}.",
        "",
        f"Each method in a fresh process; {n_runs(cold, 'cold')} right after evicting "
        f"the file from the page cache, then {n_runs(warm, 'warm')} with the file "
        "cached; medians. *First use*: the time to then read one value from every "
        "4 KiB page of every weight (a memory-mapped load reads the file only then). "
        "*Peak host RSS*: the process's peak resident memory during load and first "
        "use, above its level before the load, as a multiple of the model's size "
        "(the largest over all runs).",
    ]


def loads_table(summary, warm):
    lines = [
        f"| method | what it does | load, warm s (median of {warm}) | load, cold s "
        "| first use, warm / cold s | peak host RSS "
        "| vs the usual recipe (warm): load / load + first use |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, figures in summary.items():
        method = BY_NAME[name]
        first_use = (
            f"{fmt_s(figures['warm_first_use_median_s'])} / "
            f"{fmt_s(figures['cold_first_use_median_s'])}"
            if figures["warm_first_use_median_s"] or figures["cold_first_use_median_s"]
            else "—"
        )
        ratios = fmt_x(speedup(summary, name))
        if figures["warm_ready_median_s"]:
            ratios += f" / {fmt_x(speedup(summary, name, 'warm_ready_median_s'))}"
        lines.append(
            f"| {method.label} | {method.what} | {fmt_s(figures['warm_median_s'])} "
            f"| {fmt_s(figures['cold_median_s'])} | {first_use} "
            f"| {figures['peak_rss_x']:.2f}× | {ratios} |"
        )
    return lines


def saves_table(saves):
    lines = [
        f"| save | what it does | s (median of {len(saves['torch_save']['runs_s'])}) |",
        "|---|---|---|",
    ]
    for name, figures in saves.items():
        save = SAVES_BY_NAME[name]
        lines.append(f"| {save.label} | {save.what} | {fmt_s(figures['median_s'])} |")
    return lines


# ---------------------------------------------------------------- the run


@contextlib.contextmanager
def work_dir_for(path):
    """`path`, made if need be and kept; or a temporary folder, removed at the end."""
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        yield Path(path)
    else:
        with tempfile.TemporaryDirectory(prefix="load-speed-") as temporary:
            yield Path(temporary)


def write_outputs(result, out, markdown_path):
    """Print the tables and the targets; write the JSON and the Markdown if asked."""
    table = markdown(result)
    print(table)
    for line, met in result["targets"]:
        print(line, "->", {True: "met", False: "NOT met", None: "(not a target)"}[met])
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=1) + "\n")
    if markdown_path:
        Path(markdown_path).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown_path).write_text(table)


def collect(args, methods, saved, files, save_times, runs, env):
    """Everything measured, as the JSON holds it (the loads' files still there)."""
    names = [m.name for m in methods]
    summary = summarise(runs, names, saved.nbytes)
    checked = {"recipe", RECOMMENDED} <= set(names) and args.runs
    return {
        "environment": env,
        "model": {
            "layers": args.layers,
            "width": args.width,
            "dtype": "float32",
            "state_dict_bytes": saved.nbytes,
            "torch_file_bytes": files["torch"].stat().st_size,
            "safetensors_file_bytes": files["safetensors"].stat().st_size,
        },
        "settings": {"runs": args.runs, "cold_runs": args.cold_runs},
        "methods": {m.name: {"label": m.label, "what": m.what} for m in methods},
        "saves": summarise_saves(save_times),
        "summary": summary,
        "runs": runs,
        "targets": targets(summary, saved.device_type, saved.nbytes) if checked else [],
    }


def parent(args):
    device_type = torch.device(args.device).type
    if device_type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available here")
    wanted = args.methods.split(",") if args.methods else None
    methods = methods_for(device_type, wanted)
    nbytes = state_dict_bytes(args.layers, args.width)
    log(
        f"model: {args.layers} x nn.Linear({args.width}, {args.width}), "
        f"{nbytes / 1e9:.3g} GB; device {args.device}; "
        f"methods: {', '.join(m.name for m in methods)}"
    )
    children = one_process_for_all if args.reuse_child else fresh_process_per_load
    with work_dir_for(args.work_dir) as work_dir:
        files = {reads: work_dir / name for reads, name in FILES.items()}
        probe, save_times = save_model_files(
            args.layers, args.width, work_dir, max(args.runs, 1)
        )
        gc.collect()  # the model is gone: free its memory before the loads
        saved = Saved(probe, nbytes, device_type)
        page_cache = check_eviction(files["torch"])
        log(f"  eviction check: {page_cache}")
        load_before = os.getloadavg()
        with children(args) as load:
            runs = run_rounds(load, methods, files, args.cold_runs, args.runs, saved)
        env = environment(args, runs, load_before, page_cache)
        result = collect(args, methods, saved, files, save_times, runs, env)
    write_outputs(result, args.out, args.markdown)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-gb", type=float, default=1.0, help="default: 1.0")
    parser.add_argument("--layers", type=int, default=8, help="N (default: 8)")
    parser.add_argument("--width", type=int, help="W (default: from --size-gb)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--runs", type=int, default=3, help="warm runs (default: 3)")
    parser.add_argument("--cold-runs", type=int, default=1, help="default: 1")
    parser.add_argument("--methods", help="comma-separated subset (default: all)")
    parser.add_argument("--out", help="write every run and the summary as JSON")
    parser.add_argument("--markdown", help="write the Markdown tables to this file")
    parser.add_argument(
        "--work-dir", help="where the model files go (default: a temp dir, removed)"
    )
    # Not for measuring: the child's side, and the smoke test's shortcut.
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--reuse-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.width is None:
        args.width = width_for(args.size_gb, args.layers)
    if args.methods:
        unknown = set(args.methods.split(",")) - set(BY_NAME)
        if unknown:
            parser.error(f"--methods: unknown {', '.join(sorted(unknown))}")
    too_big = state_dict_bytes(args.layers, args.width) >= REUSE_CHILD_BELOW_BYTES
    if args.reuse_child and too_big:
        parser.error("--reuse-child is for the smoke test's tiny model only")
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
