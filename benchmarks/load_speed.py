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
from pathlib import Path

import psutil
import safetensors
import torch
from safetensors.torch import load_file, save_file
from torch import nn

ALL = ("cpu", "cuda")
# name: (label, what it does (Markdown), devices it runs on)
METHODS = {
    "raw_read": (
        "raw read (floor)",
        '`open(path, "rb").read()`: the file\'s bytes, nothing else',
        ALL,
    ),
    "h2d_pinned": (
        "host→device copy (floor)",
        "one pinned host tensor of the model's size `.to(device)`",
        ("cuda",),
    ),
    "init_only": (
        "empty instance",
        "`Big()` then `.to(device)`: random initialisation, no checkpoint",
        ALL,
    ),
    "recipe": (
        "the usual recipe",
        "`model = Big()`; `model.load_state_dict(torch.load(path))`; "
        "`model.to(device)`",
        ALL,
    ),
    "meta_assign": (
        "meta + load + assign",
        'meta model; `torch.load(path, map_location="cpu")`; '
        "`load_state_dict(sd, assign=True)`; `.to(device)`",
        ALL,
    ),
    "map_location": (
        "map_location to the device",
        "meta model; `torch.load(path, map_location=device)`; `assign=True`",
        ("cuda",),
    ),
    "mmap_meta_assign": (
        "mmap + meta + assign",
        '`torch.load(path, mmap=True, map_location="cpu")`; meta model; '
        "`assign=True`; `.to(device)`",
        ALL,
    ),
    "safetensors": (
        "safetensors",
        "meta model; `safetensors.torch.load_file(path, device=device)`; `assign=True`",
        ALL,
    ),
}
SAVES = {
    "torch_save": ("torch.save", "`torch.save(sd, path)`, then fsync"),
    "safetensors_save": ("safetensors save_file", "`save_file(sd, path)`, then fsync"),
    "atomic_torch_save": (
        "torch.save, atomic",
        "`torch.save` to a temp file in the same folder, fsync, `os.replace`, "
        "fsync the folder",
    ),
}
RECOMMENDED = "mmap_meta_assign"
# Checked targets: (device, smallest model in bytes, speed-up at least, memory at most)
TARGETS = {"cpu": (10**9, 5.0, 1.2), "cuda": (0, 10.0, None)}


class Big(nn.Sequential):
    """`layers` x nn.Linear(width, width), float32: a model of a chosen size."""

    def __init__(self, layers, width):
        super().__init__(*(nn.Linear(width, width) for _ in range(layers)))


def state_dict_bytes(layers, width):
    return layers * (width * width + width) * 4


def width_for(size_gb, layers):
    """The smallest multiple of 64 that makes the state_dict at least size_gb GB."""
    return max(64, math.ceil(math.sqrt(size_gb * 1e9 / (4 * layers)) / 64) * 64)


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


def load(method, path, device, layers, width, pinned):
    """One way to load: returns what it loaded (a model, bytes or a tensor)."""
    if method == "raw_read":
        with open(path, "rb") as f:
            return f.read()
    if method == "h2d_pinned":
        return pinned.to(device)
    if method == "init_only":
        return Big(layers, width).to(device)
    if method == "recipe":
        model = Big(layers, width)
        model.load_state_dict(torch.load(path, weights_only=True))
        return model.to(device)
    if method == "meta_assign":
        with torch.device("meta"):
            model = Big(layers, width)
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state_dict, assign=True)
        return model.to(device)
    if method == "map_location":
        with torch.device("meta"):
            model = Big(layers, width)
        state_dict = torch.load(path, map_location=device, weights_only=True)
        model.load_state_dict(state_dict, assign=True)
        return model
    if method == "mmap_meta_assign":
        state_dict = torch.load(path, mmap=True, map_location="cpu", weights_only=True)
        with torch.device("meta"):
            model = Big(layers, width)
        model.load_state_dict(state_dict, assign=True)
        return model.to(device)
    if method == "safetensors":
        with torch.device("meta"):
            model = Big(layers, width)
        model.load_state_dict(load_file(path, device=str(device)), assign=True)
        return model.to(device)
    raise ValueError(f"unknown method {method}")


def read_every_page(model):
    """Read one value from every 4 KiB page of every weight: the first use.

    A load from a memory-mapped file returns before it reads the file: the pages
    are read when first touched. This makes that cost visible.
    """
    for param in model.parameters():
        flat = param.detach().view(-1)
        flat[:: 4096 // flat.element_size()].sum()


def child(args):
    device = torch.device(args.device)
    if device.type == "cuda":
        # CUDA's start-up and the first use's kernel: not timed
        torch.ones(8, device=device)[::2].sum()
        synchronize(device)
    pinned = None
    if args.child == "h2d_pinned":
        nbytes = state_dict_bytes(args.layers, args.width)
        pinned = torch.ones(nbytes, dtype=torch.uint8, pin_memory=True)
    gc.collect()
    with PeakRSS() as memory:
        start = time.perf_counter()
        loaded = load(args.child, args.file, device, args.layers, args.width, pinned)
        synchronize(device)
        seconds = time.perf_counter() - start
        if isinstance(loaded, nn.Module):
            start = time.perf_counter()
            read_every_page(loaded)
            synchronize(device)
            first_use = time.perf_counter() - start
        else:
            first_use = None
    report = {
        "s": seconds,
        "first_use_s": first_use,
        "rss_base_kb": memory.base_kb,
        "rss_peak_kb": memory.peak_kb,
        "memory_measured_by": memory.how,
        "torch_threads": torch.get_num_threads(),
        "device_name": (
            torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
        ),
    }
    # Checks, after the timing: what was loaded is really there.
    if isinstance(loaded, nn.Module):
        params = list(loaded.parameters())
        report["on_meta"] = sum(p.is_meta for p in params)
        report["devices"] = sorted({p.device.type for p in params})
        report["probe"] = [
            *loaded[0].weight[0, :4].tolist(),
            *loaded[-1].bias[-4:].tolist(),
        ]
    elif isinstance(loaded, bytes):
        report["bytes"] = len(loaded)
    else:
        report["bytes"] = loaded.numel()
        report["devices"] = [loaded.device.type]
    print(json.dumps(report))


# ---------------------------------------------------------------- the parent


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


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


def run_child(method, path, args):
    command = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--file",
        str(path),
        "--device",
        args.device,
        "--layers",
        str(args.layers),
        "--width",
        str(args.width),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(f"{method} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def check(method, report, probe, nbytes, file_bytes, device_type):
    """Fail loudly if a child did not load what was saved."""
    if "probe" in report:
        assert report["on_meta"] == 0, f"{method}: parameters left on meta"
        if method != "init_only":
            assert report["probe"] == probe, f"{method}: loaded values differ"
    elif method == "raw_read":
        assert report["bytes"] == file_bytes, f"{method}: read {report['bytes']}"
    else:
        assert report["bytes"] == nbytes, f"{method}: copied {report['bytes']}"
    assert report.get("devices", [device_type]) == [device_type], report["devices"]


def median(values):
    return statistics.median(values) if values else None


def fmt_s(seconds):
    return "—" if seconds is None else f"{seconds:.3g}"


def fmt_x(ratio):
    if ratio is None:
        return "—"
    return f"{ratio:.1f}×" if ratio < 10 else f"{ratio:.0f}×"


def n_runs(count, kind):
    return f"{count} {kind} run" + ("" if count == 1 else "s")


def summarise(runs, methods, nbytes):
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


def targets(summary, device_type, nbytes):
    """The checked targets, as (line, met) pairs; met is None for a note."""
    smallest, at_least, memory_at_most = TARGETS[device_type]
    name = METHODS[RECOMMENDED][0]
    if nbytes < smallest:
        note = f"not checked: the model is {nbytes / 1e9:.3g} GB, under 1 GB"
        return [(f"Target on {device_type}: {note}", None)]
    ratio = speedup(summary, RECOMMENDED)
    lines = [
        (
            f"Target on {device_type}: {name} loads at least {at_least:g}× faster "
            f"than the usual recipe (warm medians): {fmt_x(ratio)}",
            ratio is not None and ratio >= at_least,
        )
    ]
    memory = summary[RECOMMENDED]["peak_rss_x"]
    if memory_at_most is not None:
        lines.append(
            (
                f"Target on {device_type}: {name} peaks at most {memory_at_most:g}× "
                f"the model's size in host memory, first use included: {memory:.2f}×",
                memory <= memory_at_most,
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


def markdown(result):
    env, model, settings = result["environment"], result["model"], result["settings"]
    summary, saves = result["summary"], result["saves"]
    warm, cold = settings["runs"], settings["cold_runs"]
    lines = [
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
        "",
        f"| method | what it does | load, warm s (median of {warm}) | load, cold s "
        "| first use, warm / cold s | peak host RSS "
        "| vs the usual recipe (warm): load / load + first use |",
        "|---|---|---|---|---|---|---|",
    ]
    for method, figures in summary.items():
        label, what, _ = METHODS[method]
        first_use = (
            f"{fmt_s(figures['warm_first_use_median_s'])} / "
            f"{fmt_s(figures['cold_first_use_median_s'])}"
            if figures["warm_first_use_median_s"] or figures["cold_first_use_median_s"]
            else "—"
        )
        ratios = fmt_x(speedup(summary, method))
        if figures["warm_ready_median_s"]:
            ratios += f" / {fmt_x(speedup(summary, method, 'warm_ready_median_s'))}"
        lines.append(
            f"| {label} | {what} | {fmt_s(figures['warm_median_s'])} "
            f"| {fmt_s(figures['cold_median_s'])} | {first_use} "
            f"| {figures['peak_rss_x']:.2f}× | {ratios} |"
        )
    lines += [
        "",
        f"| save | what it does | s (median of {len(saves['torch_save']['runs_s'])}) |",
        "|---|---|---|",
    ]
    for name, figures in saves.items():
        label, what = SAVES[name]
        lines.append(f"| {label} | {what} | {fmt_s(figures['median_s'])} |")
    lines.append("")
    for line, met in result["targets"]:
        verdict = "" if met is None else (" — **met**" if met else " — **NOT met**")
        lines.append(f"- {line}{verdict}")
    return "\n".join(lines) + "\n"


def parent(args):
    device_type = torch.device(args.device).type
    if device_type == "cuda" and not torch.cuda.is_available():
        sys.exit("--device cuda: CUDA is not available here")
    methods = [m for m, (_, _, devices) in METHODS.items() if device_type in devices]
    if args.methods:
        methods = [m for m in methods if m in args.methods.split(",")]
    nbytes = state_dict_bytes(args.layers, args.width)
    work_dir = Path(args.work_dir or tempfile.mkdtemp(prefix="load-speed-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    pt_path, st_path = work_dir / "big.pt", work_dir / "big.safetensors"
    atomic_path = work_dir / "big-atomic.pt"
    log = sys.stderr
    print(
        f"model: {args.layers} x nn.Linear({args.width}, {args.width}), "
        f"{nbytes / 1e9:.3g} GB; device {args.device}; methods: {', '.join(methods)}",
        file=log,
    )

    # The files, and the time each save takes (from host memory, fsync included).
    torch.manual_seed(0)
    model = Big(args.layers, args.width)
    state_dict = model.state_dict()
    probe = [*model[0].weight[0, :4].tolist(), *model[-1].bias[-4:].tolist()]
    save_runs = {name: [] for name in SAVES}
    savers = {
        "torch_save": (save_torch, pt_path),
        "safetensors_save": (save_safetensors, st_path),
        "atomic_torch_save": (save_atomic, atomic_path),
    }
    for _ in range(max(args.runs, 1)):
        for name, (save, path) in savers.items():
            start = time.perf_counter()
            save(state_dict, path)
            save_runs[name].append(time.perf_counter() - start)
            print(f"  {name}: {save_runs[name][-1]:.3f} s", file=log)
    atomic_path.unlink()
    del model, state_dict
    gc.collect()
    saves = {
        name: {"runs_s": runs, "median_s": median(runs)}
        for name, runs in save_runs.items()
    }

    # Does evicting work here? Check with mincore, and by timing a raw read.
    evict(pt_path)
    after_evict = cached_fraction(pt_path)
    start = time.perf_counter()
    read_through(pt_path)
    cold_read = time.perf_counter() - start
    start = time.perf_counter()
    read_through(pt_path)
    warm_read = time.perf_counter() - start
    eviction = {
        "cached_fraction_after_evict": after_evict,
        "cached_fraction_after_read": cached_fraction(pt_path),
        "read_cold_s": cold_read,
        "read_warm_s": warm_read,
    }
    print(f"  eviction check: {eviction}", file=log)

    runs = []
    load_before = os.getloadavg()
    for round_number in range(args.cold_runs + args.runs):
        cold = round_number < args.cold_runs
        for method in methods:
            path = st_path if method == "safetensors" else pt_path
            if cold:
                evict(path)
            else:
                read_through(path)
            cached = cached_fraction(path)
            report = run_child(method, path, args)
            check(method, report, probe, nbytes, path.stat().st_size, device_type)
            report.update(method=method, cold=cold, cached_fraction=cached)
            runs.append(report)
            extra = (report["rss_peak_kb"] - report["rss_base_kb"]) * 1024 / nbytes
            state = "cold" if cold else "warm"
            first_use = report["first_use_s"]
            print(
                f"  {method} {state}: load {report['s']:.3f} s, first use "
                f"{'-' if first_use is None else f'{first_use:.3f} s'}, {extra:.2f}x",
                file=log,
            )

    summary = summarise(runs, methods, nbytes)
    memory = psutil.virtual_memory()
    result = {
        "environment": {
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
            "page_cache": eviction,
        },
        "model": {
            "layers": args.layers,
            "width": args.width,
            "dtype": "float32",
            "state_dict_bytes": nbytes,
            "torch_file_bytes": pt_path.stat().st_size,
            "safetensors_file_bytes": st_path.stat().st_size,
        },
        "settings": {"runs": args.runs, "cold_runs": args.cold_runs},
        "methods": {
            m: {"label": METHODS[m][0], "what": METHODS[m][1]} for m in methods
        },
        "saves": saves,
        "summary": summary,
        "runs": runs,
    }
    result["targets"] = (
        targets(summary, device_type, nbytes)
        if {"recipe", RECOMMENDED} <= set(methods) and args.runs
        else []
    )
    if not args.work_dir:
        for path in (pt_path, st_path):
            path.unlink()
        work_dir.rmdir()

    table = markdown(result)
    print(table)
    for line, met in result["targets"]:
        print(line, "->", {True: "met", False: "NOT met", None: "(not a target)"}[met])
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(table)


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
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.width is None:
        args.width = width_for(args.size_gb, args.layers)
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    main()
