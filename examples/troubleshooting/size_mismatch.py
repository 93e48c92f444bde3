"""Fix "size mismatch for fc2.weight": load all but a layer whose shape changed.

The saved model's last layer has 1 output; the new model's has 3. `load_state_dict`
refuses a tensor of another shape, even with `strict=False`. Keep only the tensors
whose shapes match, load them with `strict=False`, and check what was left out.
"""

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


class MyModelWithNewHead(nn.Module):
    """MyModel with a new last layer: 3 outputs instead of 1."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 3)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    model = MyModel().to(device)
    # ... train the model ...
    path = out_dir / "mymodel.pt"
    torch.save(model.state_dict(), path)

    new_model = MyModelWithNewHead().to(device)
    state_dict = torch.load(path, map_location=device, weights_only=True)
    for strict in (True, False):
        try:
            new_model.load_state_dict(state_dict, strict=strict)
        except RuntimeError as err:
            error = err
        else:
            raise AssertionError(f"strict={strict} loaded tensors of another shape")
        print(f"strict={strict}: {type(error).__name__}: {error}")
        assert (
            "size mismatch for fc2.weight: copying a param with shape "
            "torch.Size([1, 5]) from checkpoint, the shape in current model is "
            "torch.Size([3, 5])."
        ) in str(error)

    new_head_before = new_model.fc2.weight.clone()
    # --8<-- [start:fix]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model_shapes = {name: t.shape for name, t in new_model.state_dict().items()}
    matching = {
        name: tensor
        for name, tensor in state_dict.items()
        if name in model_shapes and tensor.shape == model_shapes[name]
    }
    result = new_model.load_state_dict(matching, strict=False)
    print(result)
    assert result.missing_keys == ["fc2.weight", "fc2.bias"]  # the new head
    assert result.unexpected_keys == []
    # --8<-- [end:fix]
    assert torch.equal(new_model.fc1.weight, model.fc1.weight)  # loaded
    assert torch.equal(new_model.fc2.weight, new_head_before)  # left as it was


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
