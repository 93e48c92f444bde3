"""Tell a damaged or wrong checkpoint file from a good one before trusting it."""

import argparse
import hashlib
import pickle
import tempfile
import zipfile
from pathlib import Path

import torch
from torch import nn


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


class WiderModel(nn.Module):
    """Another model: its fc1 has 8 outputs, not 5."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 8)
        self.fc2 = nn.Linear(8, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [start:checksum]
def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def save_with_checksum(obj, path):
    """torch.save, then a sidecar file `sha256sum -c` reads, written only after."""
    path = Path(path)
    torch.save(obj, path)
    sidecar = path.with_name(path.name + ".sha256")
    sidecar.write_text(f"{sha256_of(path)}  {path.name}\n")


# --8<-- [end:checksum]


# --8<-- [start:check]
def check_checkpoint(path, model):
    """Why the state_dict file at path is not to be trusted, or "ok"."""
    path = Path(path)
    if not zipfile.is_zipfile(path):
        return "not a zip archive: truncated, empty, or not a torch.save file"
    sidecar = path.with_name(path.name + ".sha256")
    if not sidecar.exists():
        return "no .sha256 file: the save may not have finished"
    if sidecar.read_text().split()[0] != sha256_of(path):
        return "sha256 differs: the file changed after it was saved"
    try:
        state_dict = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError) as err:
        return f"torch.load failed: {type(err).__name__}"
    try:
        model.load_state_dict(state_dict)  # strict: the same keys and shapes
    except RuntimeError as err:
        return f"not this model's: {str(err).splitlines()[1].strip()}"
    return "ok"


# --8<-- [end:check]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = MyModel().to(device)
    good = out_dir / "good.pt"
    save_with_checksum(model.state_dict(), good)
    good_bytes = good.read_bytes()

    # Files as they turn up after crashes, bad copies and mix-ups.
    truncated = out_dir / "truncated.pt"  # a save killed halfway: no .sha256 yet
    truncated.write_bytes(good_bytes[: len(good_bytes) // 2])
    empty = out_dir / "empty.pt"  # a save killed at once
    empty.write_bytes(b"")
    web_page = out_dir / "web_page.pt"  # a download that got an error page
    web_page.write_text("<!DOCTYPE html><html><body>Not Found</body></html>\n")
    flipped = out_dir / "flipped.pt"  # one bit flipped on a bad disk or copy
    save_with_checksum(model.state_dict(), flipped)
    data = bytearray(flipped.read_bytes())
    offset = data.find(model.fc1.weight.detach().cpu().numpy().tobytes())
    data[offset] ^= 1  # the lowest bit of fc1.weight[0, 0]
    flipped.write_bytes(data)
    assert offset > 0
    unfinished = out_dir / "unfinished.pt"  # torch.save done, killed before .sha256
    torch.save(model.state_dict(), unfinished)
    wider = out_dir / "wider.pt"  # a good file, of another model
    save_with_checksum(WiderModel().state_dict(), wider)
    entire = out_dir / "entire_model.pt"  # torch.save(model): a pickle of the class
    save_with_checksum(model, entire)

    # --8<-- [start:load_errors]
    outcome = {}
    for path in [truncated, empty, web_page, flipped]:
        try:
            state_dict = torch.load(path, weights_only=True)
        except (RuntimeError, pickle.UnpicklingError, EOFError) as err:
            outcome[path.name] = f"{type(err).__name__}: {str(err).split('. ')[0]}"
        else:
            same = torch.equal(state_dict["fc1.weight"], model.fc1.weight)
            outcome[path.name] = f"loads without an error; weights as saved: {same}"
        print(f"{path.name}: {outcome[path.name]}")
    # --8<-- [end:load_errors]
    assert outcome["truncated.pt"] == (
        "RuntimeError: PytorchStreamReader failed reading zip archive: "
        "failed finding central directory"
    )
    assert outcome["empty.pt"] == "EOFError: "
    assert outcome["web_page.pt"] == "UnpicklingError: Weights only load failed"
    assert outcome["flipped.pt"] == "loads without an error; weights as saved: False"

    # --8<-- [start:verdicts]
    verdicts = {}
    for path in [good, truncated, empty, web_page, flipped, unfinished, wider, entire]:
        verdicts[path.name] = check_checkpoint(path, MyModel().to(device))
        print(f"{path.name}: {verdicts[path.name]}")
    # --8<-- [end:verdicts]
    assert verdicts["good.pt"] == "ok"
    for name in ["truncated.pt", "empty.pt", "web_page.pt"]:
        assert verdicts[name].startswith("not a zip archive")
    assert verdicts["flipped.pt"].startswith("sha256 differs")
    assert verdicts["unfinished.pt"].startswith("no .sha256 file")
    assert verdicts["wider.pt"].startswith("not this model's: size mismatch")
    assert verdicts["entire_model.pt"] == "torch.load failed: UnpicklingError"

    for path in [good, truncated, empty, web_page, flipped, unfinished, wider, entire]:
        path.unlink()
        path.with_name(path.name + ".sha256").unlink(missing_ok=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
