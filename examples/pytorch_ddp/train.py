"""Data-parallel training with PyTorch DistributedDataParallel, as it runs on Vertex AI.

Run it as a CustomJob with 1 primary (workerpool0) and N workers (workerpool1): every
replica reads its place from the variables Vertex (and customjobs) set:

    MASTER_ADDR, MASTER_PORT   where the primary (rank 0) listens
    WORLD_SIZE, RANK           how many processes, and which one this is
    AIP_MODEL_DIR              where the trained model goes (a path, file:// or gs://)

Each rank fits a linear model to its own shard of synthetic data (gloo backend, CPU);
DDP averages the gradients, so all ranks hold the same weights. The primary prints the
loss averaged over all ranks and saves the model to AIP_MODEL_DIR/model.pt. For a gs://
AIP_MODEL_DIR the file is uploaded with google-cloud-storage, which STORAGE_EMULATOR_HOST
points at the customjobs server.
"""

from __future__ import annotations

import argparse
import io
import os
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

FEATURES = 8
TRUE_SEED = 1234
INIT_TIMEOUT = timedelta(seconds=120)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--noise", type=float, default=0.05)
    return parser.parse_args()


def true_model() -> tuple[torch.Tensor, torch.Tensor]:
    """The weights every rank's data comes from (same seed everywhere)."""
    gen = torch.Generator().manual_seed(TRUE_SEED)
    return torch.randn(FEATURES, 1, generator=gen), torch.randn(1, generator=gen)


def shard(rank: int, size: int, noise: float) -> tuple[torch.Tensor, torch.Tensor]:
    """This rank's own examples: a different seed per rank, as a real sharded dataset would be."""
    weight, bias = true_model()
    gen = torch.Generator().manual_seed(rank)
    x = torch.randn(size, FEATURES, generator=gen)
    y = x @ weight + bias + noise * torch.randn(size, 1, generator=gen)
    return x, y


def save(model: nn.Module, model_dir: str) -> str:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    if model_dir.startswith("gs://"):
        from google.cloud import storage

        bucket, _, prefix = model_dir.removeprefix("gs://").partition("/")
        storage.Client().bucket(bucket).blob(f"{prefix.rstrip('/')}/model.pt").upload_from_string(
            buffer.getvalue()
        )
        return f"{model_dir.rstrip('/')}/model.pt"
    path = Path(model_dir.removeprefix("file://")) / "model.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return str(path)


def main() -> None:
    args = parse_args()
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    address = f"tcp://{os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}"
    print(f"rank {rank}/{world_size}: joining {address}", flush=True)
    dist.init_process_group(
        "gloo", init_method=address, rank=rank, world_size=world_size, timeout=INIT_TIMEOUT
    )

    torch.manual_seed(0)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    model = DistributedDataParallel(nn.Linear(FEATURES, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.MSELoss()
    x, y = shard(rank, args.steps * args.batch_size // 4, args.noise)

    loss = torch.tensor(0.0)
    for step in range(args.steps):
        picks = torch.randint(
            0, len(x), (args.batch_size,), generator=torch.Generator().manual_seed(step + 1000 * rank)
        )
        optimizer.zero_grad()
        loss = loss_fn(model(x[picks]), y[picks])
        loss.backward()  # DDP all-reduces the gradients here
        optimizer.step()
        if step % 50 == 0 and rank == 0:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)

    # The loss every rank ends with, averaged: what the job reports.
    final = loss.detach().clone()
    dist.all_reduce(final, op=dist.ReduceOp.SUM)
    final /= world_size
    if rank == 0:
        print(f"final loss {final.item():.6f}", flush=True)
        print(f"saved model to {save(model.module, os.environ['AIP_MODEL_DIR'])}", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
