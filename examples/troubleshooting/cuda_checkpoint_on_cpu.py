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

# A state_dict saved on a GPU, and the outputs that GPU computed (fixtures.json,
# beside it): data/gpu-checkpoints/ in the site's repository, or wherever you
# downloaded them (--checkpoint).
CHECKPOINT = (
    Path(__file__).resolve().parent.parent.parent
    / "data/gpu-checkpoints/mymodel_state_dict_cuda.pt"
)
MISSING = (
    "Not found: {missing}. This script needs mymodel_state_dict_cuda.pt, a state_dict "
    "saved on a GPU, and fixtures.json (the outputs that GPU computed) in one folder. "
    "Download both from the page 'From GPU to CPU and back' of the guide to saving and "
    "loading PyTorch models (data/gpu-checkpoints/ in its repository), then run "
    "`python {script} --checkpoint FOLDER/mymodel_state_dict_cuda.pt`."
)


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def main(device="cpu", out_dir=None, checkpoint=CHECKPOINT):  # writes nothing
    path = Path(checkpoint)
    fixtures_file = path.with_name("fixtures.json")
    missing = [str(p) for p in (path, fixtures_file) if not p.is_file()]
    if missing:
        script = Path(__file__).name
        raise SystemExit(MISSING.format(missing=" and ".join(missing), script=script))

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
    fixtures = json.loads(fixtures_file.read_text())
    inputs = torch.tensor(fixtures["inputs"], device=device)
    expected = torch.tensor(fixtures["outputs"], device=device)
    with torch.no_grad():
        assert torch.allclose(model(inputs), expected, atol=1e-5)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    parser.add_argument(
        "--checkpoint",
        default=CHECKPOINT,
        help="a state_dict saved on a GPU, with fixtures.json beside it",
    )
    main(**vars(parser.parse_args()))
