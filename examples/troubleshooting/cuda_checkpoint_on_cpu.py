"""Fix "Attempting to deserialize object on a CUDA device": a GPU file on a CPU machine.

torch.load puts each tensor back on the device it was saved from. A file saved on a
GPU names "cuda:0", which a machine without CUDA cannot provide. Tell torch.load
where to put the tensors with `map_location`.
"""

import argparse
import json
from pathlib import Path

import torch
from torch import nn

# A state_dict saved on a GPU (data/gpu-checkpoints/ in the site's repository).
DATA = Path(__file__).resolve().parents[2] / "data" / "gpu-checkpoints"


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None):  # writes nothing
    path = DATA / "mymodel_state_dict_cuda.pt"

    if not torch.cuda.is_available():
        try:
            torch.load(path, weights_only=True)
        except RuntimeError as err:
            error = err
        else:
            raise AssertionError("a CUDA file loaded without CUDA")
        print(f"{type(error).__name__}: {error}")
        assert "Attempting to deserialize object on a CUDA device" in str(error)
    else:  # with a GPU, the file loads as it is, onto the GPU
        state_dict = torch.load(path, weights_only=True)
        assert state_dict["fc1.weight"].is_cuda

    # --8<-- [start:fix]
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model = MyModel().to(device)
    model.load_state_dict(state_dict)
    # --8<-- [end:fix]
    assert all(t.device.type == torch.device(device).type for t in state_dict.values())

    # The outputs the GPU gave when the file was saved (float32 on another device:
    # equal within 1e-5).
    fixtures = json.loads((DATA / "fixtures.json").read_text())
    inputs = torch.tensor(fixtures["inputs"], device=device)
    expected = torch.tensor(fixtures["outputs"], device=device)
    with torch.no_grad():
        assert torch.allclose(model(inputs), expected, atol=1e-5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
