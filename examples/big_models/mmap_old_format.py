"""torch.load(mmap=True) needs the zip format, the one torch.save writes by default."""

import argparse
import tempfile
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
    path = out_dir / "old_format.pt"
    # the format torch.save wrote before PyTorch 1.6
    torch.save(trained.state_dict(), path, _use_new_zipfile_serialization=False)

    message = ""
    # --8<-- [start:error]
    try:
        torch.load(path, mmap=True, map_location="cpu", weights_only=True)
    except RuntimeError as err:
        message = str(err)
        print(f"{type(err).__name__}: {message}")
    # --8<-- [end:error]
    assert "mmap can only be used with files saved with" in message

    # --8<-- [start:convert]
    state_dict = torch.load(path, map_location="cpu", weights_only=True)  # no mmap
    new_path = out_dir / "mymodel.pt"
    torch.save(state_dict, new_path)  # the zip format, the default
    state_dict = torch.load(new_path, mmap=True, map_location="cpu", weights_only=True)
    # --8<-- [end:convert]

    with torch.device("meta"):
        model = MyModel()
    model.load_state_dict(state_dict, assign=True)
    model.to(device)
    assert not any(p.is_meta for p in model.parameters())
    loaded, saved = model.state_dict(), trained.state_dict()
    assert all(torch.equal(loaded[name], saved[name]) for name in saved)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
