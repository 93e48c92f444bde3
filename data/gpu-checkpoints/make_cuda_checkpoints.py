"""Make the GPU-saved test checkpoints and fixtures.json again.

Run it as a script on a machine with a GPU:

    python data/gpu-checkpoints/make_cuda_checkpoints.py --out-dir DIR

It writes mymodel_state_dict_cuda.pt, checkpoint_cuda.pt, mymodel_entire_cuda.pt
and fixtures.json into DIR. Run as a script, the entire-model file pickles the
class as `__main__.MyModel`, as a reader's training script would. With
--device cpu the files keep their names but hold CPU tensors (the tests use
this to check the recipe on any machine).
"""

import argparse
import json
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


# The training batch of the original run: what torch.randn(4, 10, device="cuda")
# and torch.randn(4, 1, device="cuda") drew after torch.manual_seed(0) and
# MyModel(). Written out so that the recipe gives the same weights on any
# device: the CPU's random generator draws other numbers than the GPU's.
TRAIN_INPUTS = [
    [-0.9246624112129211, -0.42534422874450684, -2.643845796585083, 0.14518386125564575, -0.12086640298366547, -0.5797257423400879, -0.6228510141372681, -0.32838690280914307, -1.0745419263839722, -0.3631439507007599],
    [-1.6710504293441772, 2.265504837036133, 0.311684787273407, -0.1841890960931778, 1.2866426706314087, 1.181952714920044, -0.12705934047698975, 1.2168909311294556, 1.4353200197219849, 1.0604605674743652],
    [-0.49413183331489563, -1.4243810176849365, -0.7244344353675842, -1.2972735166549683, 0.06968985497951508, -0.007406571414321661, 1.896948218345642, 0.6877782344818115, -0.07794807106256485, -0.8372799754142761],
    [1.3506464958190918, -0.2879197299480438, -0.596531331539154, -0.3282594382762909, -0.9086048007011414, -0.8059370517730713, -0.7406656742095947, -0.050385482609272, 0.5434768199920654, 1.5150033235549927],
]  # fmt: skip
TRAIN_TARGETS = [
    [0.1808258295059204],
    [-0.5522627830505371],
    [0.9238133430480957],
    [-0.7349704504013062],
]

MODEL = (
    "MyModel: fc1 = nn.Linear(10, 5), fc2 = nn.Linear(5, 1), forward = fc2(fc1(x)); "
    "torch.manual_seed(0), one Adam(lr=1e-3) step on MSE"
)
FILES = {
    "mymodel_state_dict_cuda.pt": "torch.save(model.state_dict()) with the model on cuda:0",
    "checkpoint_cuda.pt": "torch.save({'epoch', 'model_state_dict', 'optimizer_state_dict', 'loss'}) on cuda:0",
    "mymodel_entire_cuda.pt": "torch.save(model): the whole module pickled as __main__.MyModel, on cuda:0",
}


def main(out_dir, device="cuda"):
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(0)
    model = MyModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    inputs = torch.tensor(TRAIN_INPUTS, device=device)
    targets = torch.tensor(TRAIN_TARGETS, device=device)

    loss = nn.functional.mse_loss(model(inputs), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

    torch.save(model.state_dict(), out_dir / "mymodel_state_dict_cuda.pt")
    checkpoint = {
        "epoch": 1,
        "model_state_dict": model.state_dict(),
        "optimizer_state_dict": optimizer.state_dict(),
        "loss": loss.item(),
    }
    torch.save(checkpoint, out_dir / "checkpoint_cuda.pt")
    torch.save(model, out_dir / "mymodel_entire_cuda.pt")

    fixture_inputs = torch.linspace(-1, 1, 30, device=device).reshape(3, 10)
    model.eval()
    with torch.no_grad():
        fixture_outputs = model(fixture_inputs)
    device_name = (
        torch.cuda.get_device_name(device)
        if torch.device(device).type == "cuda"
        else "cpu"
    )
    fixtures = {
        "made_with_torch": torch.__version__,
        "device": device_name,
        "model": MODEL,
        "files": FILES,
        "inputs": fixture_inputs.tolist(),
        "outputs": fixture_outputs.tolist(),
        "state_dict": {name: t.tolist() for name, t in model.state_dict().items()},
    }
    (out_dir / "fixtures.json").write_text(json.dumps(fixtures, indent=1))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda", help="cuda, cuda:1, ... (or cpu)")
    parser.add_argument("--out-dir", required=True, help="where to write the files")
    main(**vars(parser.parse_args()))
