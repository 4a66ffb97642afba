"""Training and inference throughput of the jet taggers (ParticleNet-Lite, ParT) on CPU (and CUDA when present).

Usage::

    python benchmarks/bench_jets_training.py [--quick] [--threads 2]
                                             [--models particlenet_lite,part_small,part]
                                             [--device cpu] [--real N] [--reference] [--onnx]

The taggers are timed side by side on the same batches. Synthetic batches: 128 jets padded
to 100 particles with 30-70 real ones (about half), four-vectors of pT 1-60 GeV around the
jet axis.
``--real N`` also measures on N generated top + N QCD jets (Pythia8, cached; ``--save-real
FILE`` keeps their arrays, ``--real-npz FILE`` reuses them on a machine without Pythia).
``--reference`` also times the direct (padded, gather-then-concatenate) EdgeConv (ParticleNet only).
Prints jets/s; the CPU load (``os.getloadavg``) is printed because the numbers
depend on it.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from hepml_nb.jets.models import build_tagger, count_parameters

_ARRAYS = ("points", "features", "mask", "labels", "four_vectors")


def synthetic_batches(n_batches: int, *, batch: int, particles: int, features: int, seed: int = 0):
    """Random padded batches (dicts of points, features, mask, labels, four_vectors), 30-70 real particles."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n_batches):
        n_real = torch.randint(30, 71, (batch,), generator=gen)
        mask = torch.arange(particles)[None, :] < n_real[:, None]
        pts = torch.randn(batch, particles, 2, generator=gen) * 0.3 * mask[..., None]
        fts = torch.randn(batch, particles, features, generator=gen) * mask[..., None]
        pt = torch.rand(batch, particles, generator=gen) * 59 + 1
        eta, phi = pts.unbind(-1)
        p4 = torch.stack([pt * phi.cos(), pt * phi.sin(), pt * eta.sinh(), pt * eta.cosh() + 0.01], -1)
        labels = torch.randint(0, 2, (batch,), generator=gen)
        out.append(dict(zip(_ARRAYS, (pts, fts, mask, labels, p4 * mask[..., None]), strict=True)))
    return out


def real_batches(n_per_class: int, *, batch: int, particles: int, npz: str | None = None, save: str | None = None):
    """Batches of generated top + QCD jets (shuffled), or of arrays saved earlier with ``--save-real``."""
    if npz:
        with np.load(npz) as f:
            arrays = {k: f[k] for k in _ARRAYS if k in f}
    else:
        from hepml_nb.jets import load_jets, top_vs_qcd_files

        data = load_jets(top_vs_qcd_files(n_per_class, seed=0), max_particles=particles)
        arrays = {k: getattr(data, k) for k in _ARRAYS}
        if save:
            np.savez_compressed(save, **arrays)
    order = np.random.default_rng(0).permutation(len(arrays["labels"]))
    tensors = {
        k: torch.from_numpy(a[order]).float() if a.dtype == np.float64 else torch.from_numpy(a[order])
        for k, a in arrays.items()
    }
    print(
        f"generated jets: {len(order)}, {tensors['features'].shape[2]} features, "
        f"mean real particles {tensors['mask'].sum(1).float().mean():.1f} of {tensors['mask'].shape[1]}"
    )
    return [{k: t[i : i + batch] for k, t in tensors.items()} for i in range(0, len(order) - batch + 1, batch)]


def _sync(device: str) -> None:
    """Wait for queued GPU work, so that wall-clock timings are honest."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _inputs(model, batch: dict, device: str) -> tuple[torch.Tensor, ...]:
    """The batch's tensors that ``model`` takes (``model.inputs``), on ``device``."""
    return tuple(batch[name].to(device) for name in model.inputs)


def train_throughput(model, batches, *, steps: int, device: str, reference: bool = False) -> float:
    """Jets/s of forward + backward + Adam step (2 warm-up steps not timed)."""
    model.to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n_jets = 0
    for i in range(steps + 2):
        if i == 2:
            _sync(device)
            start, n_jets = time.perf_counter(), 0
        batch = batches[i % len(batches)]
        y = batch["labels"].to(device)
        logits = model(*_inputs(model, batch, device), implementation="direct" if reference else "packed")
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
            inputs = _inputs(model, batches[i % len(batches)], device)
            model(*inputs)
            n_jets += len(inputs[0])
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
            os.path.join(tmp, "tagger.onnx"),
            n_particles=batches[0]["mask"].shape[1],
            n_features=batches[0]["features"].shape[2],
        )
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = torch.get_num_threads()
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        n_jets = 0
        feeds = [{k: b[k].numpy().astype(np.float32) for k in model.inputs} for b in batches]
        for i in range(steps + 2):
            if i == 2:
                start, n_jets = time.perf_counter(), 0
            session.run(None, feeds[i % len(feeds)])
            n_jets += len(feeds[i % len(feeds)]["mask"])
    return n_jets / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument(
        "--models", default="particlenet_lite,part_small,part", help="comma-separated taggers (see TAGGERS)"
    )
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--particles", type=int, default=100)
    parser.add_argument("--real", type=int, default=0, help="also use N generated top + N QCD jets")
    parser.add_argument("--save-real", help="write the generated jets' arrays to this .npz")
    parser.add_argument("--real-npz", help="use jets saved with --save-real (no Pythia needed)")
    parser.add_argument("--reference", action="store_true", help="also time the direct EdgeConv (ParticleNet)")
    parser.add_argument("--onnx", action="store_true", help="also time ONNX Runtime inference")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile'd training")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    steps = 5 if args.quick else 20
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    print(
        f"{', '.join(names)} on {device}, {args.threads} threads, batch {args.batch}, {args.particles} particles; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    sets = {"synthetic": synthetic_batches(4, batch=args.batch, particles=args.particles, features=7)}
    if args.real or args.real_npz:
        sets["generated"] = real_batches(
            args.real, batch=args.batch, particles=args.particles, npz=args.real_npz, save=args.save_real
        )
    rows = []
    for name, batches in sets.items():
        for tagger in names:
            torch.manual_seed(0)
            model = build_tagger(tagger, input_dims=batches[0]["features"].shape[2])
            n = steps if tagger != "part" else max(2, steps // 4)  # the paper's ParT is slow on CPU
            row = {"set": name, "model": tagger, "parameters": count_parameters(model)}
            row["train"] = train_throughput(model, batches, steps=n, device=device)
            if args.compile:
                compiled = torch.compile(build_tagger(tagger, input_dims=batches[0]["features"].shape[2]), dynamic=True)
                row["train, torch.compile"] = train_throughput(compiled, batches, steps=n, device=device)
            if args.reference and "points" in model.inputs:
                ref = train_throughput(model, batches, steps=max(2, n // 5), device=device, reference=True)
                row["train, direct EdgeConv"] = ref
            row["inference"] = inference_throughput(model, batches, steps=n, device=device)
            if args.onnx:
                row["inference, ONNX Runtime"] = onnx_throughput(model, batches, steps=n)
            rows.append(row)
            print(
                f"[{name}] {tagger:17s} {row['parameters']:>9,} parameters: "
                + ", ".join(f"{k} {v:7.0f} jets/s" for k, v in row.items() if k not in ("set", "model", "parameters"))
            )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
