"""With assign=True and strict=False, a key missing from the file stays on meta."""

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
    incomplete = trained.state_dict()
    del incomplete["fc2.bias"]  # a checkpoint that lacks one of the model's tensors
    path = out_dir / "incomplete.pt"
    torch.save(incomplete, path)

    # --8<-- [start:missing]
    with torch.device("meta"):
        model = MyModel()
    state_dict = torch.load(path, map_location=device, weights_only=True)
    result = model.load_state_dict(state_dict, assign=True, strict=False)
    print("missing keys:", result.missing_keys)
    on_meta = [name for name, p in model.named_parameters() if p.is_meta]
    print("still on meta:", on_meta)
    # --8<-- [end:missing]
    assert result.missing_keys == ["fc2.bias"]
    assert on_meta == ["fc2.bias"] and model.fc2.bias.is_meta

    forward_error = ""
    try:
        model(torch.randn(3, 10, device=device))
    except (RuntimeError, NotImplementedError) as err:
        forward_error = str(err)
        print(f"{type(err).__name__}: {err}")
    assert "meta" in forward_error

    # --8<-- [start:strict]
    with torch.device("meta"):
        model = MyModel()
    try:
        model.load_state_dict(state_dict, assign=True)  # strict=True, the default
    except RuntimeError as err:
        message = str(err)
        print(f"{type(err).__name__}: {message}")
    # --8<-- [end:strict]
    assert 'Missing key(s) in state_dict: "fc2.bias"' in message


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
