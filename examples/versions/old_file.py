"""A file from PyTorch before 1.6: the legacy format, which torch.load still reads.

torch.save wrote this format until PyTorch 1.6 made the zip format the default;
`_use_new_zipfile_serialization=False` still writes it. torch.load reads it, with
weights_only=True too. Saving it again converts it to the zip format.
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


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    trained = MyModel().to(device)
    path = out_dir / "mymodel_legacy.pt"
    # The format of PyTorch 1.5 and older:
    torch.save(trained.state_dict(), path, _use_new_zipfile_serialization=False)

    # --8<-- [start:load]
    print("a zip archive:", zipfile.is_zipfile(path))  # False: the legacy format
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    # --8<-- [end:load]
    assert not zipfile.is_zipfile(path)
    assert path.read_bytes()[:2] == b"\x80\x02"  # a pickle stream (protocol 2)
    saved = trained.state_dict()
    same = all(torch.equal(t, saved[k]) for k, t in model.state_dict().items())
    print("loaded with weights_only=True, same weights:", same)
    assert same

    # mmap=True needs the zip format (see "Load big models fast").
    try:
        torch.load(path, mmap=True, map_location="cpu", weights_only=True)
    except RuntimeError as err:
        assert "mmap can only be used with files saved with" in str(err)
    else:
        raise AssertionError("mmap=True read a legacy file")

    # --8<-- [start:convert]
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    new_path = out_dir / "mymodel.pt"
    torch.save(state_dict, new_path)  # the zip format, the default since 1.6
    print("converted, a zip archive:", zipfile.is_zipfile(new_path))
    # --8<-- [end:convert]
    assert zipfile.is_zipfile(new_path)
    converted = torch.load(new_path, mmap=True, map_location="cpu", weights_only=True)
    assert all(torch.equal(converted[k], t.cpu()) for k, t in saved.items())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, mps, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
