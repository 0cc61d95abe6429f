"""Train the triplet fusion on an export, gate it against the active fusion, publish if it wins.

    python -m training_job.fusion.train --export DIR --base-models DIR --artifacts DIR [--epochs N]

Exit codes: 0 published, 3 refused at the gate (the new model does not beat the active one's
MAP@12; ``--force`` publishes anyway), 2 bad arguments.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from functions.training import upload_folder
from training_job.fusion import checkpoint
from training_job.fusion.export_data import Export, load_export, split
from training_job.fusion.gate import fuse_with_onnx, score_fusions, text_to_photo_recall
from training_job.fusion.model import V0_DIM, TripletFusion, alignment_loss, modality_dropout, triplet_loss
from training_job.fusion.publish import export_fusion, publish
from training_job.fusion.triplets import Triplets, mine_triplets

GATE_REFUSED = 3
GATE_METRIC = "MAP"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", type=Path, required=True, help="folder written by `vitrina export`")
    parser.add_argument("--base-models", type=Path, required=True, help="models folder with the encoders")
    parser.add_argument("--artifacts", required=True,
                        help="where ARTIFACTS/<version>/ goes: a folder, or s3://bucket/prefix (manifest.json last)")
    parser.add_argument("--checkpoints", type=Path, default=checkpoint.default_folder())
    # On H&M, 2 epochs scored best at the gate (MAP@12 0.02333; a 3rd epoch: 0.02304).
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--dim", type=int, default=V0_DIM,
                        help=f"fused dimensions; {V0_DIM} (v0's space) starts from v0 exactly")
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--align-weight", type=float, default=0.5)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--modality-dropout", type=float, default=0.3)
    parser.add_argument("--window-days", type=int, default=14)
    parser.add_argument("--hard-fraction", type=float, default=0.5)
    parser.add_argument("--max-triplets", type=int, default=None)
    parser.add_argument("--eval-days", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="publish even if the gate says no")
    args = parser.parse_args(argv)
    if not 1 <= args.dim <= 2000:
        parser.error("--dim must be in 1..2000 (pgvector's HNSW limit)")
    return args


def config_hash(args: argparse.Namespace, export: Export, model: TripletFusion) -> str:
    """Everything that shapes the trained weights — arguments, data, the network's parameter
    layout — except the epoch count, so that a rerun with more epochs continues the same run."""
    fields = {key: value for key, value in sorted(vars(args).items())
              if key not in ("epochs", "force", "artifacts", "checkpoints", "export", "base_models")}
    layout = [(name, list(tensor.shape)) for name, tensor in model.state_dict().items()]
    return hashlib.sha256(json.dumps([fields, export.fingerprint, layout], default=str).encode()).hexdigest()


def train_epoch(model: TripletFusion, optimizer: torch.optim.Optimizer, triplets: Triplets,
                text: torch.Tensor, image: torch.Tensor, args: argparse.Namespace,
                generator: torch.Generator) -> float:
    """One pass over the triplets in a fresh random order; returns the mean loss."""
    model.train()
    device = text.device
    has_text = (text != 0).any(1, keepdim=True).float()
    has_image = (image != 0).any(1, keepdim=True).float()
    anchor, positive, negative = (torch.as_tensor(a, device=device)
                                  for a in (triplets.anchor, triplets.positive, triplets.negative))
    order = torch.randperm(len(triplets), generator=generator).to(device)
    total, batches = 0.0, 0
    for start in range(0, len(order), args.batch_size):
        rows = order[start:start + args.batch_size]
        views = []
        for items in (anchor[rows], positive[rows], negative[rows]):
            keep_text, keep_image = modality_dropout(has_text[items], has_image[items], args.modality_dropout,
                                                     generator)
            views.append(model(text[items], image[items], keep_text, keep_image))
        loss = triplet_loss(*views, margin=args.margin)
        both = anchor[rows][(has_text[anchor[rows]] * has_image[anchor[rows]]).squeeze(-1) > 0].unique()
        if len(both) > 1:
            loss = loss + args.align_weight * alignment_loss(model, text[both], image[both], args.temperature)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, batches = total + float(loss.detach()), batches + 1
    return total / max(batches, 1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    export = load_export(args.export)
    train_log, test_log = split(export, args.eval_days)
    triplets = mine_triplets(train_log.user_ids, export.item_indices(train_log), train_log.types, train_log.ts,
                             export.categories, window_days=args.window_days, hard_fraction=args.hard_fraction,
                             max_triplets=args.max_triplets, seed=args.seed)
    print(f"{len(train_log)} training events, {len(test_log)} gate events; {len(triplets)} triplets "
          f"({int(triplets.hard.sum())} with hard negatives)", flush=True)

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(args.seed)
    model = TripletFusion(args.dim, args.hidden).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    generator = torch.Generator().manual_seed(args.seed)
    digest = config_hash(args, export, model)
    first_epoch, earlier_seconds = 0, 0.0
    state = checkpoint.load(args.checkpoints, digest)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        first_epoch, earlier_seconds = state["epoch"], state["train_seconds"]
        print(f"resuming from epoch {first_epoch} ({args.checkpoints / checkpoint.FILE})", flush=True)

    text, image = torch.from_numpy(export.text).to(device), torch.from_numpy(export.image).to(device)
    train_started = time.perf_counter()
    for epoch in range(first_epoch, args.epochs):
        loss = train_epoch(model, optimizer, triplets, text, image, args, generator) if len(triplets) else 0.0
        checkpoint.save(args.checkpoints, {
            "config_hash": digest, "epoch": epoch + 1, "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "generator": generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "train_seconds": earlier_seconds + time.perf_counter() - train_started})
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss:.4f} ({time.perf_counter() - train_started:.1f} s)",
              flush=True)
    # Training time across interruptions: the epochs before a resume count too.
    train_seconds = earlier_seconds + time.perf_counter() - train_started

    to_s3 = args.artifacts.startswith("s3://")
    # An S3 destination is assembled in a local folder first, then uploaded with its manifest last.
    artifacts = Path(tempfile.mkdtemp(prefix="vitrina-publish-")) if to_s3 else Path(args.artifacts)
    artifacts.mkdir(parents=True, exist_ok=True)
    staging = artifacts / f".staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    fusion_path, quantization = export_fusion(model, staging, export.text, export.image)
    print(f"quantization: {quantization}", flush=True)

    active = export.manifest["fusion"]
    active_path = args.base_models / active["file"]
    fused = {"active": fuse_with_onnx(active_path, export.text, export.image),
             "trained": fuse_with_onnx(fusion_path, export.text, export.image)}
    scores = score_fusions(export.item_ids, export.categories, fused, train_log, test_log)
    recall = {name: text_to_photo_recall(path, export.text, export.image)
              for name, path in (("active", active_path), ("trained", fusion_path))}
    for name, label in (("active", active["version"]), ("trained", "trained")):
        overall, cold = scores[name]["overall"], scores[name]["cold_start"]
        print(f"gate {label}: MAP@12 {overall['MAP']:.5f} NDCG@12 {overall['NDCG']:.5f} | cold-start MAP@12 "
              f"{cold['MAP']:.5f} NDCG@12 {cold['NDCG']:.5f} | text→photo recall@10 {recall[name]:.4f}", flush=True)
    wins = scores["trained"]["overall"][GATE_METRIC] > scores["active"]["overall"][GATE_METRIC]
    if not wins and not args.force:
        shutil.rmtree(artifacts if to_s3 else staging)
        print(f"gate refused: the trained fusion's MAP@12 does not beat the active {active['version']}; "
              "nothing published (--force publishes anyway)", file=sys.stderr, flush=True)
        return GATE_REFUSED

    cutoff = str(test_log.ts.min()) if len(test_log) else None
    spec = {
        "kind": "triplet-mlp", "dim": args.dim, "quantization": quantization,
        "trained_on": {"export_models_version": export.manifest.get("version"), "export_sha256": export.fingerprint,
                       "training_events": len(train_log), "gate_events": len(test_log), "gate_from": cutoff,
                       "triplets": len(triplets), "epochs": args.epochs, "window_days": args.window_days,
                       "seed": args.seed, "train_seconds": round(train_seconds, 1), "device": str(device)},
        "metrics": {"k": 12, "gate": GATE_METRIC, "forced": bool(args.force and not wins),
                    "active_version": active["version"],
                    **{name: {**scores[name], "text_to_photo_recall@10": recall[name]} for name in fused}},
    }
    folder = publish(staging, artifacts, args.base_models, export.manifest, spec)
    if to_s3:
        import boto3

        location = f"{args.artifacts.rstrip('/')}/{folder.name}"
        upload_folder(boto3.client("s3"), folder, location)
        shutil.rmtree(artifacts)
    else:
        location = str(folder)
    print(f"published {location} in {time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
