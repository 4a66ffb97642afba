"""ParticleNet(-Lite) training and inference throughput on CPU (and CUDA when present).

Usage::

    python benchmarks/bench_jets_training.py [--quick] [--threads 2] [--model particlenet_lite]
                                             [--device cpu] [--real N] [--reference] [--onnx]

Synthetic batches: 128 jets padded to 100 particles with 30-70 real ones (about half).
``--real N`` also measures on N generated top + N QCD jets (Pythia8, cached; ``--save-real
FILE`` keeps their arrays, ``--real-npz FILE`` reuses them on a machine without Pythia).
``--reference`` also times the direct (padded, gather-then-concatenate) EdgeConv.
Prints jets/s; the CPU load (``os.getloadavg``) is printed because the numbers
depend on it.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from hepml_nb.jets.models import build_particlenet, count_parameters


def synthetic_batches(n_batches: int, *, batch: int, particles: int, features: int, seed: int = 0):
    """Random padded batches (points, features, mask, labels) with 30-70 real particles per jet."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        n_real = torch.randint(30, 71, (batch,), generator=gen)
        mask = torch.arange(particles)[None, :] < n_real[:, None]
        pts = torch.randn(batch, particles, 2, generator=gen) * 0.3 * mask[..., None]
        fts = torch.randn(batch, particles, features, generator=gen) * mask[..., None]
        out.append((pts, fts, mask, torch.randint(0, 2, (batch,), generator=gen)))
    return out


def real_batches(n_per_class: int, *, batch: int, particles: int, npz: str | None = None, save: str | None = None):
    """Batches of generated top + QCD jets (shuffled), or of arrays saved earlier with ``--save-real``."""
    if npz:
        with np.load(npz) as f:
            arrays = [f[k] for k in ("points", "features", "mask", "labels")]
    else:
        from hepml_nb.jets import load_jets, top_vs_qcd_files

        data = load_jets(top_vs_qcd_files(n_per_class, seed=0), max_particles=particles)
        arrays = [data.points, data.features, data.mask, data.labels]
        if save:
            np.savez_compressed(save, points=arrays[0], features=arrays[1], mask=arrays[2], labels=arrays[3])
    order = np.random.default_rng(0).permutation(len(arrays[3]))
    tensors = [torch.from_numpy(a[order]) for a in arrays]
    print(
        f"generated jets: {len(order)}, {tensors[1].shape[2]} features, "
        f"mean real particles {tensors[2].sum(1).float().mean():.1f} of {tensors[2].shape[1]}"
    )
    return [tuple(t[i : i + batch] for t in tensors) for i in range(0, len(order) - batch + 1, batch)]


def _sync(device: str) -> None:
    """Wait for queued GPU work, so that wall-clock timings are honest."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def train_throughput(model, batches, *, steps: int, device: str, reference: bool = False) -> float:
    """Jets/s of forward + backward + Adam step (2 warm-up steps not timed)."""
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n_jets = 0
    for i in range(steps + 2):
        if i == 2:
            _sync(device)
            start, n_jets = time.perf_counter(), 0
        pts, fts, mask, y = (t.to(device) for t in batches[i % len(batches)])
        logits = model(pts, fts, mask, implementation="direct" if reference else "packed")
        loss = torch.nn.functional.cross_entropy(logits, y.long())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        n_jets += len(y)
    _sync(device)
    return n_jets / (time.perf_counter() - start)


def inference_throughput(model, batches, *, steps: int, device: str) -> float:
    """Jets/s of eval-mode forward passes."""
    model.to(device).eval()
    n_jets = 0
    with torch.inference_mode():
        for i in range(steps + 2):
            if i == 2:
                _sync(device)
                start, n_jets = time.perf_counter(), 0
            pts, fts, mask, _ = (t.to(device) for t in batches[i % len(batches)])
            model(pts, fts, mask)
            n_jets += len(pts)
    _sync(device)
    return n_jets / (time.perf_counter() - start)


def onnx_throughput(model, batches, *, steps: int) -> float:
    """Jets/s of ONNX Runtime inference (CPU provider) of the exported model."""
    import tempfile

    import onnxruntime as ort

    from hepml_nb.jets.export import export_onnx

    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(
            model.cpu(),
            os.path.join(tmp, "pn.onnx"),
            n_particles=batches[0][0].shape[1],
            n_features=batches[0][1].shape[2],
        )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        n_jets = 0
        feeds = [
            {"points": b[0].numpy(), "features": b[1].numpy(), "mask": b[2].numpy().astype(np.float32)} for b in batches
        ]
        for i in range(steps + 2):
            if i == 2:
                start, n_jets = time.perf_counter(), 0
            session.run(None, feeds[i % len(feeds)])
            n_jets += len(feeds[i % len(feeds)]["points"])
    return n_jets / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--model", default="particlenet_lite", help="particlenet_lite or particlenet")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--particles", type=int, default=100)
    parser.add_argument("--real", type=int, default=0, help="also use N generated top + N QCD jets")
    parser.add_argument("--save-real", help="write the generated jets' arrays to this .npz")
    parser.add_argument("--real-npz", help="use jets saved with --save-real (no Pythia needed)")
    parser.add_argument("--reference", action="store_true", help="also time the direct EdgeConv")
    parser.add_argument("--onnx", action="store_true", help="also time ONNX Runtime inference")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd training")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    steps = 5 if args.quick else 20
    print(
        f"{args.model} on {device}, {args.threads} threads, batch {args.batch}, {args.particles} particles; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    sets = {"synthetic": synthetic_batches(4, batch=args.batch, particles=args.particles, features=7)}
    if args.real or args.real_npz:
        sets["generated"] = real_batches(
            args.real, batch=args.batch, particles=args.particles, npz=args.real_npz, save=args.save_real
        )
    for name, batches in sets.items():
        model = build_particlenet(args.model, input_dims=batches[0][1].shape[2])
        if name == "synthetic":
            print(f"parameters: {count_parameters(model)}")
        print(f"[{name}] training  {train_throughput(model, batches, steps=steps, device=device):8.0f} jets/s")
        if args.compile:
            start = time.perf_counter()
            compiled = torch.compile(build_particlenet(args.model, input_dims=batches[0][1].shape[2]), dynamic=True)
            rate = train_throughput(compiled, batches, steps=steps, device=device)
            print(
                f"[{name}] training, torch.compile {rate:8.0f} jets/s "
                f"(incl. warm-up {time.perf_counter() - start:.0f} s total)"
            )
        if args.reference:
            ref = train_throughput(model, batches, steps=max(2, steps // 5), device=device, reference=True)
            print(f"[{name}] training, direct EdgeConv {ref:8.0f} jets/s")
        rate = inference_throughput(model, batches, steps=steps, device=device)
        print(f"[{name}] inference {rate:8.0f} jets/s (torch)")
        if args.onnx:
            print(f"[{name}] inference {onnx_throughput(model, batches, steps=steps):8.0f} jets/s (ONNX Runtime, CPU)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
