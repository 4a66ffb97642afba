"""Calorimeter geometries the showers are deposited into, and the absorber materials.

``calogan``
    The three-layer geometry of CaloGAN (Paganini, de Oliveira, Nachman,
    arXiv:1705.02355, 1712.10321): a 480 mm x 480 mm block of 80 layers of 2 mm lead and
    4 mm liquid argon, read out in three layers bounded by the Geant4 boundaries at 0, 90,
    437 and 480 mm (about 5.77, 22.24 and 2.76 X0 of the effective Pb/LAr material), with
    3 x 96, 12 x 12 and 12 x 6 cells (504 cells). Layer arrays are ``(n_y, n_x)``; the
    particle enters at the centre of the face.
``dataset1-photons``, ``dataset1-pions``, ``dataset2``, ``dataset3``
    The cylindrical voxel layouts of the Fast Calorimeter Simulation Challenge
    (CaloChallenge, arXiv:2410.21611), read from ``layouts.json`` (transcribed from the
    challenge's ``binning_dataset_*.xml``): 368, 533, 6480 (45 layers x 16 angular x 9
    radial bins) and 40500 (45 x 50 x 18) voxels. Each layer has its own radial edges and
    number of angular bins; dataset-1 layers without bins hold no voxels but keep their
    layer id. Flat order as in the challenge: layer, then angular bin, then radial bin
    (radial fastest); the angular bins split [-pi, pi) evenly, bin 0 starting at -pi.

Depths are in radiation lengths X0, transverse positions in mm. Datasets 2 and 3 are
tungsten / silicon with 0.8 X0 per read-out layer (two 1.4 mm W absorbers, X0 = 3.5 mm);
dataset 1 (the ATLAS calorimeter layers) has no depth model here (``layer_edges_x0`` is
None): its files can be read and analysed, but GFlash cannot simulate into it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hepml_nb.core.errors import ParameterError

__all__ = [
    "MOLIERE_SCALE_MEV",
    "Material",
    "PB_LAR",
    "W_SI",
    "Geometry",
    "GEOMETRIES",
    "LAYOUTS_FILE",
    "load_layouts",
    "get_geometry",
    "locate",
    "cell_index",
    "layer_images",
]

#: Scale energy of the Moliere radius: R_M = X0 * 21.2 MeV / E_c.
MOLIERE_SCALE_MEV = 21.2
#: The challenge's voxel layouts (package data).
LAYOUTS_FILE = Path(__file__).with_name("layouts.json")


class Material(NamedTuple):
    """Effective absorber: atomic number ``z``, critical energy ``ec_mev`` [MeV] and
    radiation length ``x0_mm`` [mm]; the Moliere radius ``rm_mm`` [mm] follows from them."""

    name: str
    z: float
    ec_mev: float
    x0_mm: float

    @property
    def rm_mm(self) -> float:
        """Moliere radius [mm]: ``x0_mm * 21.2 MeV / ec_mev``."""
        return self.x0_mm * MOLIERE_SCALE_MEV / self.ec_mev


#: Lead (2 mm) / liquid argon (4 mm) sampling stack, thickness-weighted effective values (R_M about 38 mm).
PB_LAR = Material("Pb/LAr (CaloGAN-like)", z=69.0, ec_mev=8.7, x0_mm=15.6)
#: Tungsten / silicon sampling stack of the challenge's datasets 2 and 3 (R_M about 9.3 mm).
W_SI = Material("W/Si (CaloChallenge-like)", z=74.0, ec_mev=8.0, x0_mm=3.5)


@dataclass(frozen=True)
class Geometry:
    """A read-out geometry: longitudinal layers, each a grid of cells.

    Attributes
    ----------
    name : str
        Key of the geometry (``calogan``, ``dataset1-photons``, ``dataset1-pions``, ``dataset2``, ``dataset3``).
    kind : str
        ``cartesian`` (layers of ``n_y x n_x`` rectangular cells) or ``cylindrical``
        (layers of ``n_alpha x n_r`` bins around the shower axis).
    layer_edges_x0 : tuple of float or None
        Depth boundaries of the layers [X0], length ``n_layers + 1``; None where the
        geometry has no depth model (dataset 1: it cannot be simulated into).
    layer_shapes : tuple of (int, int)
        Cells per layer: ``(n_y, n_x)`` or ``(n_alpha, n_r)``; ``n_r = 0`` for a layer without bins.
    material : Material
        The effective absorber.
    extent_mm : tuple of (float, float)
        Cartesian: half-widths ``(y, x)`` of the face [mm]. Unused for cylindrical.
    r_edges_mm : tuple of tuple of float
        Cylindrical: radial bin edges [mm] of each layer (``(0.0,)`` for a layer without bins).
        Empty for cartesian.
    layer_ids : tuple of int
        Layer ids (the challenge's ``Layer id``); default 0 .. n_layers - 1.
    layer_edges_mm : tuple of float or None
        Depth boundaries [mm] the X0 boundaries were converted from (CaloGAN's Geant4 boundaries).
    particle, pid : str, int
        Cylindrical: the particle of the challenge dataset and its PDG id ('' and 0 for CaloGAN).
    """

    name: str
    kind: str
    layer_edges_x0: tuple[float, ...] | None
    layer_shapes: tuple[tuple[int, int], ...]
    material: Material
    extent_mm: tuple[float, float] = (0.0, 0.0)
    r_edges_mm: tuple[tuple[float, ...], ...] = ()
    layer_ids: tuple[int, ...] = field(default=())
    layer_edges_mm: tuple[float, ...] | None = None
    particle: str = ""
    pid: int = 0

    def __post_init__(self) -> None:
        if not self.layer_ids:
            object.__setattr__(self, "layer_ids", tuple(range(len(self.layer_shapes))))

    @property
    def n_layers(self) -> int:
        """Number of longitudinal layers (including layers without cells)."""
        return len(self.layer_shapes)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Cells per layer."""
        return tuple(a * b for a, b in self.layer_shapes)

    @property
    def n_cells(self) -> int:
        """Total number of cells (504 calogan, 368 / 533 dataset 1, 6480 dataset 2, 40500 dataset 3)."""
        return sum(self.layer_sizes)

    @property
    def layer_offsets(self) -> np.ndarray:
        """Index of the first cell of each layer in the flat cell vector, shape (n_layers + 1,)."""
        return np.concatenate([[0], np.cumsum(self.layer_sizes)]).astype(np.int64)

    @property
    def relevant_layers(self) -> tuple[int, ...]:
        """Indices of the layers that hold cells (the challenge's ``relevantLayers``)."""
        return tuple(i for i, size in enumerate(self.layer_sizes) if size > 0)

    @property
    def layers_binned_in_alpha(self) -> tuple[int, ...]:
        """Cylindrical: indices of the layers with more than one angular bin (they get eta/phi features)."""
        if self.kind != "cylindrical":
            return ()
        return tuple(i for i, (n_alpha, n_r) in enumerate(self.layer_shapes) if n_alpha > 1 and n_r > 0)

    @property
    def simulable(self) -> bool:
        """Whether the geometry has a depth model (``layer_edges_x0``), so that GFlash can simulate into it."""
        return self.layer_edges_x0 is not None and len(self.layer_edges_x0) == self.n_layers + 1

    def r_centres(self, layer: int) -> np.ndarray:
        """Cylindrical: midpoints of the radial bins of ``layer`` [mm]."""
        edges = np.asarray(self.r_edges_mm[layer], dtype=float)
        return 0.5 * (edges[1:] + edges[:-1])

    def alpha_centres(self, layer: int) -> np.ndarray:
        """Cylindrical: centres of the angular bins of ``layer`` [rad], midpoints of linspace(-pi, pi, n + 1)."""
        edges = np.linspace(-np.pi, np.pi, self.layer_shapes[layer][0] + 1)
        return 0.5 * (edges[1:] + edges[:-1])

    def cell_layer(self) -> np.ndarray:
        """Layer index of every cell in flat order, shape (n_cells,)."""
        return np.repeat(np.arange(self.n_layers), self.layer_sizes)

    def cell_polar(self) -> tuple[np.ndarray, np.ndarray]:
        """Cylindrical: bin centres ``(r_mid [mm], alpha_mid [rad])`` of every voxel in flat order."""
        if self.kind != "cylindrical":
            raise ParameterError(f"geometry {self.name!r} is {self.kind}; cell_polar needs a cylindrical geometry")
        rs, alphas = [], []
        for layer, (_, n_r) in enumerate(self.layer_shapes):
            if n_r == 0:
                continue
            r, alpha = np.meshgrid(self.r_centres(layer), self.alpha_centres(layer))  # (n_alpha, n_r): r fastest
            rs.append(r.ravel())
            alphas.append(alpha.ravel())
        if not rs:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(rs), np.concatenate(alphas)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres ``(x, y)`` [mm] of every cell in flat order, each of shape (n_cells,).

        Cylindrical: ``x = r_mid cos(alpha_mid)``, ``y = r_mid sin(alpha_mid)``, the challenge's
        "eta" and "phi" coordinates of a voxel.
        """
        if self.kind == "cylindrical":
            r, alpha = self.cell_polar()
            return r * np.cos(alpha), r * np.sin(alpha)
        xs, ys = [], []
        (hy, hx) = self.extent_mm
        for ny, nx in self.layer_shapes:
            y = -hy + (np.arange(ny) + 0.5) * (2 * hy / ny)
            x = -hx + (np.arange(nx) + 0.5) * (2 * hx / nx)
            gx, gy = np.meshgrid(x, y)  # arrays of shape (ny, nx)
            xs.append(gx.ravel())
            ys.append(gy.ravel())
        return np.concatenate(xs), np.concatenate(ys)


@cache
def load_layouts() -> dict:
    """The challenge's voxel layouts from ``layouts.json``: ``{name: {dataset, particle, pid, layers}}``."""
    return json.loads(LAYOUTS_FILE.read_text())["layouts"]


#: Read-out layers of datasets 2 and 3 [X0 each]: two 1.4 mm W absorbers at X0 = 3.5 mm.
_X0_PER_LAYER = {"dataset2": 0.8, "dataset3": 0.8}
#: CaloGAN's Geant4 read-out layer boundaries [mm].
CALOGAN_LAYER_EDGES_MM = (0.0, 90.0, 437.0, 480.0)


def _cylindrical(name: str) -> Geometry:
    layout = load_layouts()[name]
    layers = layout["layers"]
    edges = tuple(tuple(float(e) for e in layer["r_edges"]) for layer in layers)
    shapes = tuple((int(layer["n_bin_alpha"]), len(e) - 1) for layer, e in zip(layers, edges, strict=True))
    per_layer = _X0_PER_LAYER.get(name)
    depth = None if per_layer is None else tuple(np.round(np.arange(len(layers) + 1) * per_layer, 6).tolist())
    return Geometry(
        name,
        "cylindrical",
        layer_edges_x0=depth,
        layer_shapes=shapes,
        # dataset 1 is ATLAS (lead / liquid-argon EM layers, then the hadronic ones): without a depth
        # model nothing is simulated into it and its material is informative only
        material=W_SI if per_layer is not None else PB_LAR,
        r_edges_mm=edges,
        layer_ids=tuple(int(layer["id"]) for layer in layers),
        particle=layout["particle"],
        pid=int(layout["pid"]),
    )


def _calogan() -> Geometry:
    return Geometry(
        "calogan",
        "cartesian",
        layer_edges_x0=tuple(e / PB_LAR.x0_mm for e in CALOGAN_LAYER_EDGES_MM),
        layer_shapes=((3, 96), (12, 12), (12, 6)),
        material=PB_LAR,
        extent_mm=(240.0, 240.0),
        layer_edges_mm=CALOGAN_LAYER_EDGES_MM,
    )


GEOMETRIES = {
    "calogan": _calogan(),
    **{name: _cylindrical(name) for name in ("dataset1-photons", "dataset1-pions", "dataset2", "dataset3")},
}


def get_geometry(name: str | Geometry) -> Geometry:
    """Return the geometry called ``name`` (a key of GEOMETRIES); a Geometry passes through."""
    if isinstance(name, Geometry):
        return name
    if name not in GEOMETRIES:
        raise ParameterError(f"unknown calorimeter geometry {name!r}; choose one of: {', '.join(GEOMETRIES)}")
    return GEOMETRIES[name]


def locate(geo: Geometry, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Layer and flat cell index of deposits at depth ``t`` [X0] and position ``(x, y)`` [mm].

    Returns ``(layer, cell)`` (int64, the shape of the inputs): ``layer`` is -1 outside the
    depth of the calorimeter; ``cell`` is -1 outside any cell (also inside a layer's depth
    but outside the face, beyond the last radial edge, or in a layer without bins).
    Angles follow the challenge: ``alpha = arctan2(y, x)`` in [-pi, pi), angular bin
    ``floor((alpha + pi) / (2 pi) * n_alpha)``.
    """
    if not geo.simulable:
        raise ParameterError(
            f"geometry {geo.name!r} has no depth model (layer_edges_x0 is None): deposits cannot be placed "
            f"in its layers; simulate into calogan, dataset2 or dataset3"
        )
    t, x, y = np.broadcast_arrays(np.asarray(t, float), np.asarray(x, float), np.asarray(y, float))
    layer = np.searchsorted(np.asarray(geo.layer_edges_x0), t, side="right") - 1
    in_depth = (layer >= 0) & (layer < geo.n_layers)
    layer = np.where(in_depth, layer, -1)
    safe = np.clip(layer, 0, geo.n_layers - 1)
    cell = np.full(t.shape, -1, dtype=np.int64)
    offsets = geo.layer_offsets
    if geo.kind == "cartesian":
        rows = np.array([s[0] for s in geo.layer_shapes])[safe]
        cols = np.array([s[1] for s in geo.layer_shapes])[safe]
        hy, hx = geo.extent_mm
        row = np.floor((y + hy) / (2 * hy) * rows).astype(np.int64)
        col = np.floor((x + hx) / (2 * hx) * cols).astype(np.int64)
        inside = in_depth & (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
        cell = np.where(inside, offsets[safe] + row * cols + col, -1)
        return layer.astype(np.int64), cell.astype(np.int64)
    radius = np.hypot(x, y)
    alpha = np.arctan2(y, x)
    alpha = np.where(alpha >= np.pi, alpha - 2 * np.pi, alpha)  # [-pi, pi)
    groups: dict[tuple, list[int]] = {}
    for i, (n_alpha, n_r) in enumerate(geo.layer_shapes):
        if n_r > 0:
            groups.setdefault((n_alpha, geo.r_edges_mm[i]), []).append(i)
    for (n_alpha, edges), members in groups.items():
        mask = in_depth & np.isin(safe, members)
        if not mask.any():
            continue
        edges_arr = np.asarray(edges)
        col = np.searchsorted(edges_arr, radius[mask], side="right") - 1
        row = np.clip(np.floor((alpha[mask] + np.pi) / (2 * np.pi) * n_alpha).astype(np.int64), 0, n_alpha - 1)
        n_r = len(edges) - 1
        ok = col < n_r
        cell[mask] = np.where(ok, offsets[safe[mask]] + row * n_r + col, -1)
    return layer.astype(np.int64), cell


def cell_index(geo: Geometry, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Flat cell index of deposits at depth ``t`` [X0] and position ``(x, y)`` [mm]; -1 if outside.

    All inputs have the same shape; so has the result (int64). See :func:`locate`.
    """
    return locate(geo, t, x, y)[1]


def layer_images(geo: Geometry, cells: np.ndarray) -> list[np.ndarray]:
    """Split flat cells ``(..., n_cells)`` into per-layer arrays ``(..., *layer_shape)`` (views)."""
    cells = np.asarray(cells)
    if cells.shape[-1] != geo.n_cells:
        raise ParameterError(
            f"showers have {cells.shape[-1]} cells but geometry {geo.name!r} has {geo.n_cells}; "
            "use the geometry the showers were made for"
        )
    off = geo.layer_offsets
    return [
        cells[..., off[i] : off[i + 1]].reshape(*cells.shape[:-1], *geo.layer_shapes[i]) for i in range(geo.n_layers)
    ]
