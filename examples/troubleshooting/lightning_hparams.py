"""Fix "Weights only load failed ... GLOBAL argparse.Namespace" for a Lightning .ckpt.

`self.save_hyperparameters()` stores the arguments of `__init__` in the checkpoint.
An argument that is not a plain value (here an argparse.Namespace) is pickled as an
object of its class, and torch.load(weights_only=True) refuses to rebuild it. In
Lightning 2.6.6, LightningModule.load_from_checkpoint and trainer.fit(ckpt_path=...)
leave weights_only to torch.load's default (True since PyTorch 2.6): they fail too.
The same happens with an OmegaConf config (what Hydra passes to your task): Lightning
stores `self.hparams`, when it is an OmegaConf container, as the container itself.
"""

import argparse
import collections
import dataclasses
import logging
import pickle
import tempfile
import typing
from pathlib import Path

import lightning as L
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.base import ContainerMetadata, Metadata
from omegaconf.nodes import AnyNode
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


# --8<-- [start:hydra_cause]
class HydraLitModel(L.LightningModule):
    def __init__(self, cfg):  # cfg: the DictConfig that Hydra passes to your task
        super().__init__()
        self.save_hyperparameters(cfg)  # self.hparams is now that DictConfig
        self.model = MyModel(cfg.model.hidden)
        # --8<-- [end:hydra_cause]

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        optim = self.hparams.optim
        return torch.optim.Adam(
            self.parameters(), lr=optim.lr, betas=tuple(optim.betas)
        )


class HydraKwargsLitModel(L.LightningModule):
    def __init__(self, cfg):
        super().__init__()
        self.save_hyperparameters()  # self.hparams is {"cfg": the DictConfig}
        self.model = MyModel(cfg.model.hidden)

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        optim = self.hparams.cfg.optim
        return torch.optim.Adam(
            self.parameters(), lr=optim.lr, betas=tuple(optim.betas)
        )


@dataclasses.dataclass
class OptimConfig:  # for a structured config
    lr: float = 0.01
    name: str = "adam"


# --8<-- [start:hydra_globals]
# What a checkpoint of an OmegaConf config of dicts, lists and plain values names.
OMEGACONF_GLOBALS = [
    DictConfig,  # from omegaconf
    ListConfig,
    ContainerMetadata,  # from omegaconf.base
    Metadata,
    AnyNode,  # from omegaconf.nodes
    typing.Any,
    collections.defaultdict,
    dict,
    list,
    int,
]
# --8<-- [end:hydra_globals]


# --8<-- [start:hydra_plain]
class PlainHydraLitModel(L.LightningModule):
    def __init__(self, cfg):  # a DictConfig from Hydra, or a dict from a checkpoint
        super().__init__()
        cfg = OmegaConf.create(cfg)
        self.save_hyperparameters(OmegaConf.to_container(cfg, resolve=True))
        self.model = MyModel(cfg.model.hidden)
        # --8<-- [end:hydra_plain]

    def forward(self, x):
        return self.model(x)

    def training_step(self, batch, batch_idx):
        inputs, targets = batch
        return nn.functional.mse_loss(self(inputs), targets)

    def configure_optimizers(self):
        optim = self.hparams.optim
        return torch.optim.Adam(
            self.parameters(), lr=optim["lr"], betas=tuple(optim["betas"])
        )


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

    # An OmegaConf config, as Hydra composes it from YAML files.
    cfg = OmegaConf.create(
        {"model": {"hidden": 5}, "optim": {"lr": 0.01, "betas": [0.9, 0.999]}}
    )
    OmegaConf.set_struct(cfg, True)  # as Hydra does
    hydra_model = HydraLitModel(cfg)
    hydra_trainer = make_trainer(device, out_dir, max_epochs=1)
    hydra_trainer.fit(hydra_model, loader)
    hydra_path = out_dir / "hydra.ckpt"
    hydra_trainer.save_checkpoint(hydra_path)

    # --8<-- [start:hydra_error]
    try:
        torch.load(hydra_path, weights_only=True)
    except pickle.UnpicklingError as err:
        print(f"{type(err).__name__}: {err}")
        # --8<-- [end:hydra_error]
        assert "GLOBAL omegaconf.dictconfig.DictConfig was not" in str(err)
    else:
        raise AssertionError("weights_only=True loaded an OmegaConf DictConfig")
    try:
        HydraLitModel.load_from_checkpoint(hydra_path)
    except pickle.UnpicklingError as err:
        assert "GLOBAL omegaconf.dictconfig.DictConfig" in str(err)
    else:
        raise AssertionError("load_from_checkpoint loaded an OmegaConf DictConfig")

    try:
        trainer = make_trainer(device, out_dir, max_epochs=2)
        trainer.fit(HydraLitModel(cfg), loader, ckpt_path=hydra_path)
    except pickle.UnpicklingError as err:
        assert "GLOBAL omegaconf.dictconfig.DictConfig" in str(err)
    else:
        raise AssertionError(
            "trainer.fit(ckpt_path=...) loaded an OmegaConf DictConfig"
        )

    # save_hyperparameters() with no argument records {"cfg": the DictConfig}: a
    # plain dict, with the same OmegaConf objects in it, refused the same way.
    kwargs_model = HydraKwargsLitModel(cfg)
    kwargs_trainer = make_trainer(device, out_dir, max_epochs=1)
    kwargs_trainer.fit(kwargs_model, loader)
    kwargs_path = out_dir / "hydra_kwargs.ckpt"
    kwargs_trainer.save_checkpoint(kwargs_path)
    try:
        torch.load(kwargs_path, weights_only=True)
    except pickle.UnpicklingError as err:
        assert "GLOBAL omegaconf.dictconfig.DictConfig was not" in str(err)
    else:
        raise AssertionError("weights_only=True loaded an OmegaConf DictConfig")
    with torch.serialization.safe_globals(OMEGACONF_GLOBALS):
        checkpoint = torch.load(kwargs_path, weights_only=True)
    assert type(checkpoint["hyper_parameters"]) is dict
    assert type(checkpoint["hyper_parameters"]["cfg"]) is DictConfig
    assert "hparams_type" not in checkpoint

    # Each class alone is not enough: the error names one at a time.
    for left_out in OMEGACONF_GLOBALS:
        allowed = [g for g in OMEGACONF_GLOBALS if g is not left_out]
        with torch.serialization.safe_globals(allowed):
            try:
                torch.load(hydra_path, weights_only=True)
            except pickle.UnpicklingError:
                pass
            else:
                raise AssertionError(f"loaded without allowing {left_out}")

    # --8<-- [start:hydra_allow]
    print(sorted(torch.serialization.get_unsafe_globals_in_checkpoint(hydra_path)))
    with torch.serialization.safe_globals(OMEGACONF_GLOBALS):
        checkpoint = torch.load(hydra_path, map_location=device, weights_only=True)
        restored = HydraLitModel.load_from_checkpoint(hydra_path, map_location=device)
        trainer = make_trainer(device, out_dir, max_epochs=2)
        trainer.fit(HydraLitModel(cfg), loader, ckpt_path=hydra_path)
    print(type(restored.hparams).__name__, restored.hparams)
    # --8<-- [end:hydra_allow]
    names = torch.serialization.get_unsafe_globals_in_checkpoint(hydra_path)
    assert sorted(names) == sorted(
        f"{g.__module__}.{g.__qualname__}" for g in OMEGACONF_GLOBALS
    )
    # Lightning stores the container itself, and its class as "hparams_type".
    assert type(checkpoint["hyper_parameters"]) is DictConfig
    assert checkpoint["hparams_type"] is DictConfig
    assert checkpoint["hparams_name"] == "cfg"  # the name of the __init__ argument
    assert checkpoint["hyper_parameters"] == cfg
    assert type(restored.hparams) is DictConfig and restored.hparams == cfg
    for name, tensor in hydra_model.state_dict().items():
        assert torch.equal(restored.state_dict()[name].cpu(), tensor.cpu())
    assert trainer.global_step == 8
    assert DictConfig not in torch.serialization.get_safe_globals()

    # The list depends on the config: without lists it has seven names; a
    # structured config names its typed nodes, their types, and its dataclass.
    no_lists = out_dir / "no_lists.pt"
    torch.save({"cfg": OmegaConf.create({"model": {"hidden": 5}})}, no_lists)
    names = torch.serialization.get_unsafe_globals_in_checkpoint(no_lists)
    assert len(names) == 7 and "omegaconf.listconfig.ListConfig" not in names
    assert not {"builtins.list", "builtins.int"} & set(names)
    structured = out_dir / "structured.pt"
    torch.save({"cfg": OmegaConf.structured(OptimConfig)}, structured)
    names = torch.serialization.get_unsafe_globals_in_checkpoint(structured)
    assert {
        "omegaconf.nodes.FloatNode",
        "omegaconf.nodes.StringNode",
        "builtins.float",
        "builtins.str",
        f"{OptimConfig.__module__}.OptimConfig",
    } <= set(names), names

    # --8<-- [start:hydra_create]
    plain_hydra_model = PlainHydraLitModel(cfg)
    # --8<-- [end:hydra_create]
    plain_trainer = make_trainer(device, out_dir, max_epochs=1)
    plain_trainer.fit(plain_hydra_model, loader)
    plain_hydra_path = out_dir / "plain_hydra.ckpt"
    plain_trainer.save_checkpoint(plain_hydra_path)
    checkpoint = torch.load(plain_hydra_path, weights_only=True)  # no allowlist
    again = PlainHydraLitModel.load_from_checkpoint(plain_hydra_path)
    print(checkpoint["hyper_parameters"])
    assert torch.serialization.get_unsafe_globals_in_checkpoint(plain_hydra_path) == []
    assert type(checkpoint["hyper_parameters"]) is dict
    assert checkpoint["hyper_parameters"] == OmegaConf.to_container(cfg)
    for name, tensor in plain_hydra_model.state_dict().items():
        assert torch.equal(again.state_dict()[name].cpu(), tensor.cpu())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or mps")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
