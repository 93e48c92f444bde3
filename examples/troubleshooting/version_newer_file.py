"""Fix "Attempted to read a PyTorch file with version N": a file from a newer PyTorch.

Each zip file that torch.save or torch.jit.save writes records a format version,
and torch.load refuses versions above the highest one it knows. The script writes
such a file (a torch.save file copied with a higher version record, as a newer
PyTorch would write it), gets the error, then checks the files that the newer
PyTorch can write for an older one.
"""

import argparse
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


def rewrite_with_version(path, new_path, version):
    """Copy a torch.save file, recording a higher format version."""
    reader = torch._C.PyTorchFileReader(str(path))
    writer = torch._C.PyTorchFileWriter(str(new_path))
    for name in reader.get_all_records():
        if name not in ("version", ".data/version", ".data/serialization_id"):
            data = reader.get_record(name)
            writer.write_record(name, data, len(data))
    writer.set_min_version(version)
    writer.write_end_of_file()


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    trained = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(trained.state_dict(), path)
    newer = out_dir / "mymodel_from_newer_pytorch.pt"
    rewrite_with_version(path, newer, 11)

    try:
        torch.load(newer, map_location=device, weights_only=True)
    except RuntimeError as err:
        error = err
    else:
        raise AssertionError("a file with a version above the maximum loaded")
    print(f"{type(error).__name__}: {error}")
    assert "Attempted to read a PyTorch file with version 11" in str(error)
    assert "maximum supported version for reading is 10" in str(error)

    # The fix, where you cannot upgrade the PyTorch that loads: a PyTorch that reads
    # the file saves it again. torch.save writes version 3, which every PyTorch
    # since 1.6 reads; for PyTorch 1.5 and older, the legacy format. (This PyTorch
    # cannot read `newer`: `path` holds the same records with version 3.)
    # --8<-- [start:fix]
    # With the newer PyTorch:
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    torch.save(state_dict, out_dir / "for_pytorch_1.6_and_later.pt")
    torch.save(
        state_dict,
        out_dir / "for_pytorch_1.5_and_older.pt",
        _use_new_zipfile_serialization=False,
    )
    # --8<-- [end:fix]
    with zipfile.ZipFile(out_dir / "for_pytorch_1.6_and_later.pt") as archive:
        version = next(n for n in archive.namelist() if n.endswith("/version"))
        assert archive.read(version) == b"3\n"
    assert not zipfile.is_zipfile(out_dir / "for_pytorch_1.5_and_older.pt")
    for name in ["for_pytorch_1.6_and_later.pt", "for_pytorch_1.5_and_older.pt"]:
        model = MyModel().to(device)
        loaded = torch.load(out_dir / name, map_location=device, weights_only=True)
        model.load_state_dict(loaded)
        saved = trained.state_dict()
        assert all(torch.equal(t, saved[k]) for k, t in model.state_dict().items())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
