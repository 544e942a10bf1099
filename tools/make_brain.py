"""Build the demo scene: fastviz/data/brain.png and fastviz/data/electrodes.csv.

Renders a lateral view of the fsaverage5 left hemisphere (pial surface shaded
with sulcal depth) that ships inside the nilearn wheel, so it works offline,
and places an ECoG-style electrode layout on the cortex in that picture.

Tool-time only (needs nilearn + nibabel); run as:  python tools/make_brain.py
"""
import os
import time

import nilearn
import numpy as np
from nilearn import surface
from PIL import Image

t0 = time.perf_counter()
FS_DIR = os.path.join(os.path.dirname(nilearn.__file__), "datasets", "data", "fsaverage5")
OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fastviz", "data")
WIDTH, MARGIN, SS = 800, 30, 2  # output width, margin (px), supersampling factor

# --- load mesh (coordinates in mm, RAS: x=right, y=anterior, z=superior) ---
mesh = surface.load_surf_mesh(os.path.join(FS_DIR, "pial_left.gii.gz"))
verts, faces = np.asarray(mesh.coordinates, float), np.asarray(mesh.faces)
sulc = np.asarray(surface.load_surf_data(os.path.join(FS_DIR, "sulc_left.gii.gz")), float)

# --- orthographic lateral camera: looking from -x towards +x ----------------
# screen right = posterior (-y), screen up = superior (+z), depth = x (smaller x = nearer)
ymin, ymax = verts[:, 1].min(), verts[:, 1].max()
zmin, zmax = verts[:, 2].min(), verts[:, 2].max()
scale = (WIDTH - 2 * MARGIN) / (ymax - ymin)  # px per mm in the output image
HEIGHT = int(np.ceil(((zmax - zmin) * scale + 2 * MARGIN) / 2)) * 2  # even
top = (HEIGHT - (zmax - zmin) * scale) / 2


def to_px(y, z):
    """Brain (y, z) in mm -> output pixel (x right, y down; 0 = top-left pixel centre)."""
    return MARGIN + (ymax - y) * scale, top + (zmax - z) * scale


# vertex positions in the supersampled image (pixel centres at (i + 0.5) * SS - 0.5)
px, py = to_px(verts[:, 1], verts[:, 2])
px, py = (px + 0.5) * SS - 0.5, (py + 0.5) * SS - 0.5
depth = verts[:, 0]
W, H = WIDTH * SS, HEIGHT * SS

# --- vectorised z-buffer rasteriser -----------------------------------------
# For every triangle enumerate the pixels of its bounding box, keep those inside
# the triangle (barycentric test), then keep the nearest fragment per pixel.
x0, x1, x2 = px[faces].T
y0, y1, y2 = py[faces].T
bx0 = np.ceil(np.minimum(np.minimum(x0, x1), x2)).astype(int)
by0 = np.ceil(np.minimum(np.minimum(y0, y1), y2)).astype(int)
bw = np.floor(np.maximum(np.maximum(x0, x1), x2)).astype(int) - bx0 + 1
bh = np.floor(np.maximum(np.maximum(y0, y1), y2)).astype(int) - by0 + 1
den = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2)
npix = np.where((bw > 0) & (bh > 0) & (np.abs(den) > 1e-9), bw * bh, 0)
tri = np.repeat(np.arange(len(faces)), npix)  # triangle of each candidate pixel
local = np.arange(tri.size) - np.repeat(np.cumsum(npix) - npix, npix)
cx = bx0[tri] + local % bw[tri]
cy = by0[tri] + local // bw[tri]
l0 = ((y1 - y2)[tri] * (cx - x2[tri]) + (x2 - x1)[tri] * (cy - y2[tri])) / den[tri]
l1 = ((y2 - y0)[tri] * (cx - x2[tri]) + (x0 - x2)[tri] * (cy - y2[tri])) / den[tri]
lam = np.stack([l0, l1, 1 - l0 - l1], axis=1)
keep = (lam >= -1e-9).all(axis=1) & (cx >= 0) & (cx < W) & (cy >= 0) & (cy < H)
tri, lam, pid = tri[keep], lam[keep], (cy * W + cx)[keep]
z = (lam * depth[faces[tri]]).sum(axis=1)
order = np.lexsort((z, pid))  # by pixel, then nearest first
first = order[np.r_[True, pid[order][1:] != pid[order][:-1]]]
tri, lam, pid = tri[first], lam[first], pid[first]

# --- shading: per-pixel Lambert (interpolated vertex normals) x sulcal albedo --
fn = np.cross(verts[faces[:, 1]] - verts[faces[:, 0]], verts[faces[:, 2]] - verts[faces[:, 0]])
vn = np.zeros_like(verts)
for k in range(3):
    np.add.at(vn, faces[:, k], fn)  # area-weighted vertex normals
vn /= np.linalg.norm(vn, axis=1, keepdims=True)
n = (lam[:, :, None] * vn[faces[tri]]).sum(axis=1)
n /= np.linalg.norm(n, axis=1, keepdims=True)
light = np.array([-1.0, 0.35, 0.6])  # from the viewer's side, a bit frontal and above
light /= np.linalg.norm(light)
lambert = np.abs(n @ light)  # abs(): robust to the triangle winding direction
s = (lam * sulc[faces[tri]]).sum(axis=1)  # FreeSurfer sulc: > 0 in sulci, < 0 on gyri
albedo = 0.88 - 0.45 * np.clip(0.5 + 1.2 * s, 0, 1)  # gyri light grey, sulci darker
val = albedo * (0.3 + 0.7 * lambert)
img = np.ones((H * W, 3))  # white background
img[pid] = val[:, None] * np.array([1.0, 0.98, 0.96])  # very slightly warm grey
img = (img.reshape(H, W, 3) * 255).round().astype(np.uint8)
mask = np.zeros(H * W, bool)
mask[pid] = True
mask = mask.reshape(H, W)
# downsample the supersampled render (box filter) -> antialiased edges
brain = Image.fromarray(img).resize((WIDTH, HEIGHT), Image.BOX)
on_brain = mask.reshape(HEIGHT, SS, WIDTH, SS).all(axis=(1, 3))  # fully covered pixels


# --- electrode layout, defined in brain (y, z) mm on the lateral projection ---
def line(n, start, end):
    """n evenly spaced (y, z) points from start to end (mm)."""
    return np.linspace(start, end, n)


# 8 x 8 grid, 10 mm pitch, centred over the Sylvian fissure and tilted by 10 deg
# (posterior end up) to follow it; G1..G8 = top row, from anterior to posterior
col, row = np.meshgrid(np.arange(8) * 10.0 - 35, np.arange(8) * 10.0 - 35)
a = np.deg2rad(10)
grid = np.c_[-31 - col.ravel() * np.cos(a) - row.ravel() * np.sin(a),
             22 + col.ravel() * np.sin(a) - row.ravel() * np.cos(a)]
names = ([f"G{i + 1}" for i in range(64)] + [f"S{i + 1}" for i in range(8)]
         + [f"T{i + 1}" for i in range(8)])
pts = np.vstack([grid,
                 line(8, (57.0, 28.0), (3.0, 67.0)),  # S: superior frontal, towards the vertex
                 line(8, (19.0, -32.0), (-49.0, -21.0))])  # T: inferior temporal strip
ex, ey = to_px(pts[:, 0], pts[:, 1])
# Bands along the grid's own rows, low frequencies at the bottom: the inferior temporal
# strip 0, grid rows 1 (bottom, G57..G64) to 8 (top, G1..G8), the superior strip 9.
# Binning the tilted grid by y would split each row in two bands: a staircase.
bands = np.r_[8 - np.arange(64) // 8, np.full(8, 9), np.zeros(8, int)]

# every electrode must sit on brain pixels (check a 9x9 px neighbourhood, ~2 mm)
ix, iy = np.round(ex).astype(int), np.round(ey).astype(int)
for dx in range(-4, 5):
    for dy in range(-4, 5):
        bad = ~on_brain[iy + dy, ix + dx]
        assert not bad.any(), f"off-brain electrodes: {[names[i] for i in np.flatnonzero(bad)]}"

# --- write outputs -----------------------------------------------------------
os.makedirs(OUT_DIR, exist_ok=True)
png, csv = os.path.join(OUT_DIR, "brain.png"), os.path.join(OUT_DIR, "electrodes.csv")
brain.save(png, optimize=True)  # 8-bit RGB
with open(csv, "w") as f:
    f.write("name,x_2d,y_2d,band\n")
    f.writelines(f"{nm},{x:.2f},{y:.2f},{b}\n" for nm, x, y, b in zip(names, ex, ey, bands))
rows = np.flatnonzero(on_brain.any(axis=1))
print(f"brain rows {rows.min()}..{rows.max()}; electrode y {ey.min():.1f}..{ey.max():.1f} px "
      f"({ey.min() / HEIGHT:.0%}..{ey.max() / HEIGHT:.0%} of the image height)")
print(f"{len(names)} electrodes, image {WIDTH}x{HEIGHT}, done in {time.perf_counter() - t0:.2f} s")
print(f"wrote {os.path.normpath(png)}\nwrote {os.path.normpath(csv)}")
