"""How fast tools/inspect_checkpoint.py reads a checkpoint, against torch.load and
picklescan.

For each case (a state_dict of N float32 tensors, S bytes in all, saved with
torch.save), each reader runs in a fresh process that measures itself: the time of
the read alone (interpreter start and imports excluded), wall-clock and CPU, and
the process's peak resident memory (VmHWM, Linux) before and after the read. The
file is freshly written, so it sits in the page cache (a warm read).

- inspect: `inspect_checkpoint.inspect(path)`, the standard library only;
- torch.load: `torch.load(path, mmap=True, weights_only=True)`;
- picklescan: `picklescan.scanner.scan_file_path(path)`, from the Python given by
  --picklescan-python (a separate environment that has picklescan), if any.

    python benchmarks/inspect_speed.py --out benchmarks/results/inspect.json \
        --markdown benchmarks/results/inspect.md
"""

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "inspect_checkpoint.py"

# (total bytes, number of tensors): 20 MB to 2 GB at 100 tensors, then 10 to 10,000
# tensors at 2 GB.
CASES = [
    (20_000_000, 100),
    (200_000_000, 100),
    (2_000_000_000, 100),
    (2_000_000_000, 10),
    (2_000_000_000, 1_000),
    (2_000_000_000, 10_000),
]

CHILD = """
import json, sys, time
kind, path, tool = sys.argv[1:4]
if kind == "inspect":
    sys.path.insert(0, tool)
    import inspect_checkpoint
    read = lambda: inspect_checkpoint.inspect(path)["tensors"]["count"]
elif kind == "torch.load":
    import torch
    read = lambda: len(torch.load(path, mmap=True, weights_only=True))
else:
    from picklescan.scanner import scan_file_path
    read = lambda: scan_file_path(path).scanned_files
def peak_mb():  # VmHWM: this process's peak resident memory (reset by exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
before = peak_mb()
start, cpu = time.perf_counter(), time.process_time()
result = read()
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak_mb(),
                  "before_mb": before, "result": result}))
"""


def make_checkpoint(path, total_bytes, count):
    """A state_dict of `count` float32 tensors of `total_bytes` in all."""
    import torch

    per = max(1, total_bytes // 4 // count)
    state = {f"layers.{i}.weight": torch.zeros(per) for i in range(count)}
    torch.save(state, path)
    del state


def measure(kind, path, python):
    """One read in a fresh process: its seconds and peak memory."""
    result = subprocess.run(
        [python, "-c", CHILD, kind, str(path), str(TOOL.parent)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def run(cases, picklescan_python, work_dir, runs):
    readers = [("inspect", sys.executable), ("torch.load", sys.executable)]
    if picklescan_python:
        readers.append(("picklescan", picklescan_python))
    rows = []
    for total, count in cases:
        path = Path(work_dir) / f"model-{total}-{count}.pt"
        make_checkpoint(path, total, count)
        for kind, python in readers:
            best = min(
                (measure(kind, path, python) for _ in range(runs)),
                key=lambda r: r["seconds"],
            )
            rows.append(
                {
                    "reader": kind,
                    "bytes": path.stat().st_size,
                    "tensors": count,
                    **best,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        path.unlink()
    return rows


def markdown(rows):
    lines = [
        "| reader | file | tensors | time (s) | CPU time (s) | peak memory (MB) "
        "| of which before the read (MB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['reader']} | {r['bytes'] / 1e6:,.0f} MB | {r['tensors']:,} | "
            f"{r['seconds']:.3f} | {r['cpu_seconds']:.3f} | {r['peak_mb']:.0f} | "
            f"{r['before_mb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--picklescan-python", help="a Python that has picklescan")
    parser.add_argument("--runs", type=int, default=3, help="runs per reader (best)")
    parser.add_argument("--quick", action="store_true", help="20 MB cases only")
    parser.add_argument("--out", help="write the rows as JSON")
    parser.add_argument("--markdown", help="write the table as Markdown")
    parser.add_argument("--work-dir", help="where the files go (default: a temp dir)")
    args = parser.parse_args()
    cases = [(20_000_000, n) for n in (10, 100, 1_000, 10_000)] if args.quick else CASES
    work_dir = args.work_dir or tempfile.mkdtemp(prefix="inspect-speed-")
    try:
        rows = run(cases, args.picklescan_python, work_dir, args.runs)
    finally:
        if not args.work_dir:
            shutil.rmtree(work_dir, ignore_errors=True)
    env = {"python": platform.python_version(), "machine": platform.machine()}
    if args.out:
        Path(args.out).write_text(json.dumps({"env": env, "rows": rows}, indent=1))
    if args.markdown:
        Path(args.markdown).write_text(markdown(rows))
    print(markdown(rows))


if __name__ == "__main__":
    main()
