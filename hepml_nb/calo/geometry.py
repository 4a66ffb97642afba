"""Calorimeter geometries the showers are deposited into, and the absorber materials.

Two read-out geometries are provided:

``calogan``
    The three-layer geometry of CaloGAN (Paganini, de Oliveira, Nachman,
    arXiv:1705.02355, 1712.10321): a 480 mm x 480 mm lead / liquid-argon block with
    layers of 3 x 96, 12 x 12 and 12 x 6 cells (504 cells), taken here as 4, 12 and 6 X0
    deep (approximate: enough to show the longitudinal development).  Layer arrays are
    ``(n_y, n_x)``; the particle enters at the centre of the face.
``dataset2``
    A cylindrical geometry shaped like dataset 2 of the Fast Calorimeter Simulation
    Challenge (arXiv:2410.21611): 45 layers x 16 angular x 9 radial bins = 6480
    voxels, flattened radial bin fastest, then angular bin, then layer.

Depths are in radiation lengths X0, transverse positions in mm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hepml_nb.core.errors import ParameterError

__all__ = ["Material", "Geometry", "GEOMETRIES", "get_geometry", "cell_index", "layer_images"]


class Material(NamedTuple):
    """Effective absorber: atomic number ``z``, critical energy ``ec_mev`` [MeV],
    radiation length ``x0_mm`` [mm] and Moliere radius ``rm_mm`` [mm]."""

    name: str
    z: float
    ec_mev: float
    x0_mm: float
    rm_mm: float


#: Lead (2 mm) / liquid argon (4 mm) sampling stack, thickness-weighted effective values.
PB_LAR = Material("Pb/LAr (CaloGAN-like)", z=69.0, ec_mev=8.7, x0_mm=15.6, rm_mm=35.0)
#: Tungsten / silicon sampling stack of the challenge's datasets 2 and 3.
W_SI = Material("W/Si (CaloChallenge-like)", z=74.0, ec_mev=8.0, x0_mm=3.5, rm_mm=9.3)


@dataclass(frozen=True)
class Geometry:
    """A read-out geometry: longitudinal layers, each a grid of cells.

    Attributes
    ----------
    name : str
        Key of the geometry (``calogan``, ``dataset2``).
    kind : str
        ``cartesian`` (layers of ``n_y x n_x`` rectangular cells) or ``cylindrical``
        (layers of ``n_alpha x n_r`` bins around the shower axis).
    layer_edges_x0 : tuple of float
        Depth boundaries of the layers [X0], length ``n_layers + 1``.
    layer_shapes : tuple of (int, int)
        Cells per layer: ``(n_y, n_x)`` or ``(n_alpha, n_r)``.
    extent_mm : tuple of (float, float)
        Cartesian: half-widths ``(y, x)`` of the face [mm]. Unused for cylindrical.
    r_edges_mm : tuple of float
        Cylindrical: radial bin edges [mm]. Unused for cartesian.
    material : Material
        The effective absorber.
    """

    name: str
    kind: str
    layer_edges_x0: tuple[float, ...]
    layer_shapes: tuple[tuple[int, int], ...]
    material: Material
    extent_mm: tuple[float, float] = (0.0, 0.0)
    r_edges_mm: tuple[float, ...] = ()

    @property
    def n_layers(self) -> int:
        """Number of longitudinal layers."""
        return len(self.layer_shapes)

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Cells per layer."""
        return tuple(a * b for a, b in self.layer_shapes)

    @property
    def n_cells(self) -> int:
        """Total number of cells (504 for ``calogan``, 6480 for ``dataset2``)."""
        return sum(self.layer_sizes)

    @property
    def layer_offsets(self) -> np.ndarray:
        """Index of the first cell of each layer in the flat cell vector, shape (n_layers + 1,)."""
        return np.concatenate([[0], np.cumsum(self.layer_sizes)])

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centres ``(x, y)`` [mm] of every cell in flat order, each of shape (n_cells,)."""
        xs, ys = [], []
        for shape in self.layer_shapes:
            x, y = _layer_centres(self, shape)
            xs.append(x.ravel())
            ys.append(y.ravel())
        return np.concatenate(xs), np.concatenate(ys)


def _layer_centres(geo: Geometry, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of one layer as 2-d arrays of ``shape`` [mm]."""
    if geo.kind == "cartesian":
        (ny, nx), (hy, hx) = shape, geo.extent_mm
        y = -hy + (np.arange(ny) + 0.5) * (2 * hy / ny)
        x = -hx + (np.arange(nx) + 0.5) * (2 * hx / nx)
        return np.meshgrid(x, y)  # arrays of shape (ny, nx)
    n_alpha, _ = shape
    edges = np.asarray(geo.r_edges_mm)
    r = 0.5 * (edges[1:] + edges[:-1])
    alpha = (np.arange(n_alpha) + 0.5) * (2 * np.pi / n_alpha)
    return r[None, :] * np.cos(alpha)[:, None], r[None, :] * np.sin(alpha)[:, None]


GEOMETRIES = {
    "calogan": Geometry(
        "calogan",
        "cartesian",
        layer_edges_x0=(0.0, 4.0, 16.0, 22.0),
        layer_shapes=((3, 96), (12, 12), (12, 6)),
        material=PB_LAR,
        extent_mm=(240.0, 240.0),
    ),
    "dataset2": Geometry(
        "dataset2",
        "cylindrical",
        layer_edges_x0=tuple(np.round(np.arange(46) * 0.8, 6)),
        layer_shapes=((16, 9),) * 45,
        material=W_SI,
        r_edges_mm=(0.0, 4.65, 9.3, 13.95, 18.6, 27.9, 37.2, 46.5, 55.8, 65.1),
    ),
}


def get_geometry(name: str | Geometry) -> Geometry:
    """Return the geometry called ``name`` (``calogan`` or ``dataset2``); a Geometry passes through."""
    if isinstance(name, Geometry):
        return name
    if name not in GEOMETRIES:
        raise ParameterError(f"unknown calorimeter geometry {name!r}; choose one of: {', '.join(GEOMETRIES)}")
    return GEOMETRIES[name]


def cell_index(geo: Geometry, t: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Flat cell index of deposits at depth ``t`` [X0] and position ``(x, y)`` [mm]; -1 if outside.

    All inputs have the same shape; so has the result (int64).
    """
    layer = np.searchsorted(np.asarray(geo.layer_edges_x0), t, side="right") - 1
    inside = (layer >= 0) & (layer < geo.n_layers)
    layer = np.clip(layer, 0, geo.n_layers - 1)
    rows, cols = np.array([s[0] for s in geo.layer_shapes]), np.array([s[1] for s in geo.layer_shapes])
    n_row, n_col = rows[layer], cols[layer]
    if geo.kind == "cartesian":
        hy, hx = geo.extent_mm
        row = np.floor((y + hy) / (2 * hy) * n_row).astype(np.int64)
        col = np.floor((x + hx) / (2 * hx) * n_col).astype(np.int64)
        inside &= (row >= 0) & (row < n_row) & (col >= 0) & (col < n_col)
    else:
        edges = np.asarray(geo.r_edges_mm)
        col = np.searchsorted(edges, np.hypot(x, y), side="right") - 1
        inside &= col < len(edges) - 1
        alpha = np.mod(np.arctan2(y, x), 2 * np.pi)
        row = np.minimum((alpha / (2 * np.pi) * n_row).astype(np.int64), n_row - 1)
    index = geo.layer_offsets[layer] + row * n_col + col
    return np.where(inside, index, -1)


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
