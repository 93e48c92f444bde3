"""Fix "Weights only load failed ... GLOBAL argparse.Namespace" for a Lightning .ckpt.

`self.save_hyperparameters()` stores the arguments of `__init__` in the checkpoint.
An argument that is not a plain value (here an argparse.Namespace) is pickled as an
object of its class, and torch.load(weights_only=True) refuses to rebuild it. In
Lightning 2.6.6, LightningModule.load_from_checkpoint and trainer.fit(ckpt_path=...)
leave weights_only to torch.load's default (True since PyTorch 2.6): they fail too.
"""

import argparse
import logging
import pickle
import tempfile
from pathlib import Path

import lightning as L
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)  # no info lines


class MyModel(nn.Module):
    def __init__(self, hidden=5):
        super().__init__()
        self.fc1 = nn.Linear(10, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


# --8<-- [start:cause]
class LitModel(L.LightningModule):
    def __init__(self, args):  # args: the argparse.Namespace of a training script
        super().__init__()
        self.save_hyperparameters()  # the checkpoint gets {"args": Namespace(...)}
        self.model = MyModel(args.hidden)
        # --8<-- [end:cause]

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.args.lr)


# --8<-- [start:plain]
class PlainLitModel(L.LightningModule):
    def __init__(self, hidden=5, lr=0.01):  # plain values: int, float
        super().__init__()
        self.save_hyperparameters()  # the checkpoint gets {"hidden": 5, "lr": 0.01}
        self.model = MyModel(hidden)
        # --8<-- [end:plain]

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=self.hparams.lr)


def make_trainer(device, out_dir, max_epochs):
    return L.Trainer(
        accelerator="cpu" if device == "cpu" else "gpu",  # gpu: CUDA or MPS
        devices=1,
        max_epochs=max_epochs,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=out_dir,
    )


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    loader = DataLoader(
        TensorDataset(torch.randn(16, 10), torch.randn(16, 1)), batch_size=4
    )
    args = argparse.Namespace(hidden=5, lr=0.01)  # as parser.parse_args() returns
    lit_model = LitModel(args)
    trainer = make_trainer(device, out_dir, max_epochs=1)
    trainer.fit(lit_model, loader)
    path = out_dir / "namespace.ckpt"
    trainer.save_checkpoint(path)

    try:
        torch.load(path, weights_only=True)
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        assert "Unsupported global: GLOBAL argparse.Namespace" in str(err)
    else:
        raise AssertionError("weights_only=True loaded an argparse.Namespace")

    # Lightning's own loading refuses it the same way.
    try:
        LitModel.load_from_checkpoint(path)
    except pickle.UnpicklingError as err:
        assert "GLOBAL argparse.Namespace" in str(err)
    else:
        raise AssertionError("load_from_checkpoint loaded an argparse.Namespace")
    try:
        trainer = make_trainer(device, out_dir, max_epochs=2)
        trainer.fit(LitModel(args), loader, ckpt_path=path)
    except pickle.UnpicklingError as err:
        assert "GLOBAL argparse.Namespace" in str(err)
    else:
        raise AssertionError("trainer.fit(ckpt_path=...) loaded an argparse.Namespace")

    # --8<-- [start:allow]
    print(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    with torch.serialization.safe_globals([argparse.Namespace]):
        # plain PyTorch
        checkpoint = torch.load(path, map_location=device, weights_only=True)
        # Lightning: rebuild the LightningModule, or resume training
        restored = LitModel.load_from_checkpoint(path, map_location=device)
        trainer = make_trainer(device, out_dir, max_epochs=2)
        trainer.fit(LitModel(args), loader, ckpt_path=path)
    print(checkpoint["hyper_parameters"])
    # --8<-- [end:allow]
    assert checkpoint["hyper_parameters"] == {"args": args}
    assert restored.hparams.args == args
    for name, tensor in lit_model.state_dict().items():
        assert torch.equal(checkpoint["state_dict"][name].cpu(), tensor.cpu())
        assert torch.equal(restored.state_dict()[name].cpu(), tensor.cpu())
    assert trainer.global_step == 8  # resumed after epoch 1 (4 steps), ran epoch 2
    assert argparse.Namespace not in torch.serialization.get_safe_globals()

    # --8<-- [start:create]
    plain_model = PlainLitModel(hidden=args.hidden, lr=args.lr)
    # --8<-- [end:create]
    plain_trainer = make_trainer(device, out_dir, max_epochs=1)
    plain_trainer.fit(plain_model, loader)
    plain_path = out_dir / "plain.ckpt"
    plain_trainer.save_checkpoint(plain_path)
    checkpoint = torch.load(plain_path, weights_only=True)  # no allowlist needed
    again = PlainLitModel.load_from_checkpoint(plain_path)
    print(checkpoint["hyper_parameters"])
    assert torch.serialization.get_unsafe_globals_in_checkpoint(plain_path) == []
    assert checkpoint["hyper_parameters"] == {"hidden": 5, "lr": 0.01}
    assert again.hparams == {"hidden": 5, "lr": 0.01}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
