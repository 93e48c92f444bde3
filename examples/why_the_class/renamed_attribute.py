"""state_dict keys are attribute names: rename one and loading fails."""

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


# --8<-- [start:renamed]
class RenamedModel(nn.Module):
    """MyModel with one change: the attribute fc1 is now called hidden."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.hidden(x))


# --8<-- [end:renamed]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)
    state_dict = torch.load(path, weights_only=True)

    # --8<-- [start:load]
    renamed = RenamedModel().to(device)
    print(list(renamed.state_dict()))
    try:
        renamed.load_state_dict(state_dict)
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert 'Missing key(s) in state_dict: "hidden.weight"' in str(err)
        assert 'Unexpected key(s) in state_dict: "fc1.weight"' in str(err)
    else:
        raise AssertionError("the keys do not match: loading must fail")
    # --8<-- [end:load]

    # --8<-- [start:strict]
    result = renamed.load_state_dict(state_dict, strict=False)
    print(result)
    # --8<-- [end:strict]
    assert result.missing_keys == ["hidden.weight", "hidden.bias"]
    assert result.unexpected_keys == ["fc1.weight", "fc1.bias"]
    assert torch.equal(renamed.fc2.weight, model.fc2.weight)  # what matches is loaded
    assert not torch.equal(renamed.hidden.weight, model.fc1.weight)  # the rest is not

    # --8<-- [start:rename_keys]
    renamed_keys = {
        name.replace("fc1.", "hidden.", 1): tensor
        for name, tensor in state_dict.items()
    }
    renamed.load_state_dict(renamed_keys)
    # --8<-- [end:rename_keys]
    x = torch.randn(3, 10, device=device)
    assert torch.equal(renamed(x), model(x))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
