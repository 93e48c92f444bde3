"""What weights_only=True protects against: a checkpoint that runs code when loaded."""

import argparse
import pickle
import tempfile
from pathlib import Path

import torch


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # --8<-- [start:version]
    # weights_only=True is only as safe as the installed torch: crafted files got
    # around it before 2.6.0 (CVE-2025-32434) and before 2.10.0 (CVE-2026-24747).
    has_fixes = torch.__version__ >= "2.10"
    print("torch has the weights_only fixes of 2.6.0 and 2.10.0:", has_fixes)
    if not has_fixes:
        print("WARNING: this torch is too old to load files from others, even with")
        print("weights_only=True: upgrade it first (pip install --upgrade torch)")
    # --8<-- [end:version]
    if torch.__version__ >= "2.10":
        assert has_fixes
    else:  # 2.6 to 2.9: as text, "2.9.1" sorts after "2.10"; as a version, before
        assert not has_fixes and str(torch.__version__) > "2.10"

    # --8<-- [start:craft]
    # Someone else's "checkpoint". Unpickling it calls exec() on a string of
    # Python: here it only writes a marker file, but it could do anything.
    marker = out_dir / "code_ran.txt"

    class RunsCodeWhenLoaded:
        def __reduce__(self):
            code = f"import pathlib; pathlib.Path({str(marker)!r}).write_text('ran')"
            return (exec, (code,))

    path = out_dir / "downloaded.pt"
    weights = {"fc1.weight": torch.randn(5, 10, device=device)}
    torch.save({"state_dict": weights, "extra": RunsCodeWhenLoaded()}, path)
    # --8<-- [end:craft]

    # --8<-- [start:safe]
    try:
        torch.load(path, weights_only=True)  # the default since PyTorch 2.6
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        # PyTorch 2.6 names it builtins.exec; 2.7 and later name it exec
        # (pytorch/pytorch#146815)
        name = "exec" if torch.__version__ >= "2.7" else "builtins.exec"
        assert f"Unsupported global: GLOBAL {name} was not" in str(err)
    else:
        raise AssertionError("weights_only=True loaded a file that runs code")
    print("code ran:", marker.exists())
    # --8<-- [end:safe]
    assert not marker.exists()

    # --8<-- [start:inspect]
    # Look inside without loading: the functions and classes that the pickle
    # names beyond the allowlist. It reads the pickle; nothing in it runs.
    print(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    # --8<-- [end:inspect]
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == [
        "builtins.exec"
    ]
    assert not marker.exists()

    # --8<-- [start:unsafe]
    # DANGER: weights_only=False unpickles anything, and so runs the code.
    checkpoint = torch.load(path, weights_only=False)
    print("code ran:", marker.exists())
    # --8<-- [end:unsafe]
    assert marker.read_text() == "ran"
    assert torch.equal(checkpoint["state_dict"]["fc1.weight"], weights["fc1.weight"])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
