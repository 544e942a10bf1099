"""Scenes a user brings: pictures, tables, montages, fit, dot sizes, previews."""
import numpy as np
import pandas as pd
import pytest
from helpers import decode_nv12, tone, write_wav
from PIL import Image

import fastviz
from fastviz._analysis import FREQS
from fastviz._demo import demo_scene
from fastviz._errors import InputError
from fastviz._options import Options
from fastviz._plan import make_renderer, make_scene, plan_render
from fastviz._raster import YCBCR
from fastviz._scene import (
    auto_dot_size,
    build_scene,
    fit_scene,
    load_background,
    load_look,
    montage_scene,
    read_table,
    scene_bands,
)
from fastviz.cli import main

FAST = ["-q", "--preset", "ultrafast", "--fps", "10"]


def cli(capsys, *args):
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.fixture
def wav(tmp_path):
    return write_wav(tmp_path / "in.wav", tone(800, 1.0) + tone(3000, 1.0), 44100)


@pytest.fixture
def picture(tmp_path):
    """A 40 x 20 (W x H) noisy picture."""
    rng = np.random.default_rng(1)
    path = tmp_path / "bg.png"
    Image.fromarray(rng.integers(0, 255, (20, 40, 3), dtype=np.uint8)).save(path)
    return path


# ----------------------------------------------------------------------------- layout

def test_scene_never_imports_the_renderer():
    import ast

    import fastviz._scene

    tree = ast.parse(open(fastviz._scene.__file__).read())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported and not imported & {"_raster", "_kernels", "_render", "_encode"}
    assert fastviz.load_background is load_background
    assert {"load_background", "load_electrodes"} <= set(fastviz.__all__)


# ----------------------------------------------------------------------------- tables

def test_the_posts_table_and_the_optional_columns(tmp_path):
    (tmp_path / "post.csv").write_text("x_2d,y_2d\n1,2\n3,4\n")
    table = read_table(tmp_path / "post.csv")
    assert table["names"] == ("0", "1") and table["bands"] is None
    (tmp_path / "rich.csv").write_text("name,x_2d,y_2d,band,color,size\n"
                                       "A,1,2,3,red,\nB,3,4,0,,50\n")
    table = read_table(tmp_path / "rich.csv")
    assert table["names"] == ("A", "B") and table["bands"].tolist() == [3, 0]
    assert table["colors"][0].tolist() == [1, 0, 0, 1] and np.isnan(table["colors"][1]).all()
    assert np.isnan(table["sizes"][0]) and table["sizes"][1] == 50


@pytest.mark.parametrize("csv, row, column", [
    ("x_2d\n1\n", None, "y_2d"),
    ("x_2d,y_2d\n1,2\nthree,4\n", 3, "x_2d"),
    ("x_2d,y_2d\n1,2\n3,NaN\n", 3, "y_2d"),
    ("x_2d,y_2d\n1,2\n3,\n", 3, "y_2d"),
    ("x_2d,y_2d\n", None, None),
    ("x_2d,y_2d\n1,2\n41,4\n", 3, "x_2d"),  # the picture is 40 wide: 39.5 is its edge
    ("x_2d,y_2d\n1,-3\n", 2, "y_2d"),
    ("x_2d,y_2d,band\n1,2,1.5\n", 2, "band"),
    ("x_2d,y_2d,band\n1,2,10\n", 2, "band"),  # bands are 0..9
    ("x_2d,y_2d,color\n1,2,notacolour\n", 2, "color"),
    ("x_2d,y_2d,size\n1,2,-4\n", 2, "size"),
], ids=["missing-column", "text", "nan", "empty-cell", "no-rows", "outside-x",
        "outside-y", "fractional-band", "band-too-high", "colour", "negative-size"])
def test_table_errors_name_the_file_row_and_column(tmp_path, capsys, wav, picture, csv,
                                                   row, column):
    table = tmp_path / "grid.csv"
    table.write_text(csv)
    out = tmp_path / "o.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, "--background", picture,
                    "--electrodes", table)
    assert code == 1 and "grid.csv" in err and not out.exists(), err
    if row is not None:
        assert f"row {row}" in err, err
    if column is not None:
        assert column in err, err
    if csv == "x_2d,y_2d\n":
        assert "no rows" in err


def test_on_the_edge_is_inside(tmp_path, picture):
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n-0.5,-0.5\n39.5,19.5\n")
    scene = build_scene(picture, tmp_path / "e.csv")
    assert scene.xs.tolist() == [-0.5, 39.5]


def test_bands_by_y_x_and_table(tmp_path, picture):
    (tmp_path / "e.csv").write_text("x_2d,y_2d,band\n0,19,7\n39,0,2\n20,9,5\n")
    scene = build_scene(picture, tmp_path / "e.csv")
    assert scene_bands(scene, 10).tolist() == [7, 2, 5]  # the column wins by default
    assert scene_bands(scene, 10, "table").tolist() == [7, 2, 5]
    assert scene_bands(scene, 10, "y").tolist() == [0, 9, 5]  # bottom lowest
    assert scene_bands(scene, 10, "x").tolist() == [0, 9, 5]  # left lowest
    (tmp_path / "p.csv").write_text("x_2d,y_2d\n0,19\n39,0\n")
    plain = build_scene(picture, tmp_path / "p.csv")
    assert scene_bands(plain, 10).tolist() == [0, 9]
    with pytest.raises(fastviz.InputError, match="band column"):
        scene_bands(plain, 10, "table")


def test_table_colour_and_size_reach_the_frame(tmp_path):
    background = np.zeros((40, 80, 3), np.uint8)
    (tmp_path / "bg.png").write_bytes(b"")
    Image.fromarray(background).save(tmp_path / "bg.png")
    (tmp_path / "e.csv").write_text("x_2d,y_2d,color,size\n20,20,#0000ff,\n60,20,,36\n")
    opts = Options(background=tmp_path / "bg.png", electrodes=tmp_path / "e.csv",
                   cmap="white", dot_size=18)
    frame = make_renderer(opts).frame([1.0, 1.0])
    assert frame[20, 20].tolist() == [0, 0, 255]  # its own colour, not the map's white
    assert frame[20, 60].tolist() == [255, 255, 255]
    luma = make_renderer(opts).frames_nv12([[1.0, 1.0]])[0, :40]  # the video's frame
    assert abs(int(luma[20, 20]) - _luma(frame[20, 20])) <= 1 and luma[20, 60] == 235
    # dot_size 18 at 80 px wide: radius 1 px; the size column's 36: radius 2 px
    assert (frame[:, :40].max(axis=2) > 0).sum() < (frame[:, 40:].max(axis=2) > 0).sum()
    hidden = make_renderer(opts).frame([np.nan, 0.5])
    assert not hidden[:, :40].any()


# ----------------------------------------------------------------------------- demo

def test_demo_bands_follow_the_grid_rows():
    scene = make_scene(Options())
    bands = scene_bands(scene, len(FREQS))
    names = scene.names
    rows = [[bands[names.index(f"G{8 * r + c + 1}")] for c in range(8)] for r in range(8)]
    assert [set(row) for row in rows] == [{8 - r} for r in range(8)]  # one band a row
    assert {bands[names.index(f"S{i}")] for i in range(1, 9)} == {9}
    assert {bands[names.index(f"T{i}")] for i in range(1, 9)} == {0}
    by_y = scene_bands(scene, len(FREQS), "y")  # the staircase the column replaces
    assert any(len({by_y[names.index(f"G{8 * r + c + 1}")] for c in range(8)}) > 1
               for r in range(8))


def nearest_spacing(xs, ys):
    """Lower quartile of the distances from each electrode to its nearest neighbour."""
    from scipy.spatial import cKDTree

    points = np.unique(np.column_stack([xs, ys]), axis=0)
    return float(np.percentile(cKDTree(points).query(points, k=2)[0][:, 1], 25))


@pytest.mark.parametrize("kind", ["bundled", "explicit", "biosemi64", "GSN-HydroCel-128",
                                  "standard_1020", "user"])
def test_default_dots_keep_neighbours_apart_on_any_scene(tmp_path, kind):
    """The bundled scene's readable dots used to apply only when no scene was given:
    the bundled picture and table given explicitly, a user's table or a montage got the
    post's 100 points, which merge neighbours into one blob. Now every scene gets
    ``auto``: the largest dot 0.9 times the lower quartile of the nearest spacings."""
    picture, table = demo_scene()
    scene = {"montage": kind} if kind not in ("bundled", "explicit", "user") else {}
    if kind == "explicit":
        scene = {"background": picture, "electrodes": table}
    elif kind == "user":  # a user's own sparser grid on their own picture
        xs, ys = np.meshgrid(np.arange(40, 600, 70.0), np.arange(40, 400, 70.0))
        pd.DataFrame({"x_2d": xs.ravel(), "y_2d": ys.ravel()}).to_csv(tmp_path / "g.csv")
        Image.new("RGB", (640, 440), "grey").save(tmp_path / "g.png")
        scene = {"background": tmp_path / "g.png", "electrodes": tmp_path / "g.csv"}
    renderer = make_renderer(Options(**scene))
    largest = 2 * renderer.radius_scale  # pixels across a dot at value 1
    spacing = nearest_spacing(renderer.xs, renderer.ys)
    np.testing.assert_allclose(largest, 0.9 * spacing, rtol=1e-9)
    if kind in ("bundled", "explicit"):
        assert renderer.dot_size == pytest.approx(34, abs=1)  # the demo's look, kept


def test_dots_scale_with_the_picture_not_the_frame():
    """``--size 1600x600 --fit pad`` keeps the 800 x 600 brain at 800 x 600, so its dots
    stay as they are (they used to double with the frame's width); 1280x720 scales the
    brain by 1.2, and its dots with it (they used to grow by 1.6, past the pitch)."""
    base = make_renderer(Options(dot_size=100))
    assert base.radius_scale[0] == 100 * 800 / 1440  # the post's points, one flag away
    wide = make_renderer(Options(dot_size=100, size=(1600, 600)))
    np.testing.assert_allclose(wide.radius_scale, base.radius_scale)
    hd = make_renderer(Options(size=(1280, 720)))
    np.testing.assert_allclose(hd.radius_scale, make_renderer(Options()).radius_scale * 1.2)
    assert 2 * hd.radius_scale.max() < nearest_spacing(hd.xs, hd.ys)
    stretched = make_renderer(Options(dot_size=100, size=(1600, 1200), fit="stretch"))
    np.testing.assert_allclose(stretched.radius_scale, base.radius_scale * 2)


# ----------------------------------------------------------------------------- pictures and fit

@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "LA", "I;16", "P"])
def test_any_picture_pillow_reads(tmp_path, mode):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (10, 12, 3), dtype=np.uint8)
    image = Image.fromarray(rgb)
    if mode == "RGBA":
        image = image.convert("RGBA")
        image.putalpha(0)  # all transparent: only the background colour shows
    elif mode == "I;16":
        image = Image.fromarray(rgb[..., 0].astype(np.uint16) * 257)
    else:
        image = image.convert(mode)
    image.save(tmp_path / "p.png")
    picture = load_background(tmp_path / "p.png", bg_color="#102030")
    assert picture.shape == (10, 12, 3) and picture.dtype == np.uint8
    if mode == "RGBA":
        assert (picture == (16, 32, 48)).all()
    elif mode == "I;16":
        assert (picture[..., 0] == rgb[..., 0]).all()
    elif mode in ("L", "LA"):
        assert (picture[..., 0] == picture[..., 2]).all()


def test_fit_pad_stretch_crop():
    picture = np.full((10, 20, 3), 200, np.uint8)  # 20 wide, 10 high
    xs, ys = [0.0, 19.0], [0.0, 9.0]
    padded, px, py, _ = fit_scene(picture, xs, ys, (40, 40), "pad", "black")
    assert padded.shape == (40, 40, 3)
    assert (padded[:10] == 0).all() and (padded[30:] == 0).all() and (padded[10:30] > 0).all()
    assert px.tolist() == [0.5, 38.5] and py.tolist() == [10.5, 28.5]
    stretched, sx, sy, _ = fit_scene(picture, xs, ys, (40, 40), "stretch")
    assert (stretched > 0).all() and sx.tolist() == [0.5, 38.5] and sy.tolist() == [1.5, 37.5]
    cropped, cx, cy, _ = fit_scene(picture, xs, ys, (40, 40), "crop")
    assert (cropped > 0).all() and cx.tolist() == [-18.5, 57.5] and cy.tolist() == [1.5, 37.5]


def test_fit_from_the_command_line(tmp_path, capsys, wav, picture):
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n15,10\n25,10\n")  # inside the crop
    for fit in ("pad", "stretch", "crop"):
        out = tmp_path / f"{fit}.png"
        code, err = cli(capsys, "layout", "--background", picture, "--electrodes",
                        tmp_path / "e.csv", "--size", "40x40", "--fit", fit,
                        "--bg-color", "black", "-o", out)
        assert code == 0, err
        image = np.asarray(Image.open(out))
        assert image.shape == (40, 40, 3)
        letterboxed = (image[:5] == 0).all()
        assert letterboxed == (fit == "pad")


# ----------------------------------------------------------------------------- montages, dot size

@pytest.mark.parametrize("name, n", [("standard_1020", 94), ("biosemi64", 64),
                                     ("GSN-HydroCel-128", 128)])
def test_montages(name, n):
    picture, xs, ys, names = montage_scene(name, (300, 200), "black")
    assert picture.shape == (200, 300, 3) and len(names) == len(xs) == n
    assert (0 < xs).all() and (xs < 300).all() and (0 < ys).all() and (ys < 200).all()
    assert picture.any()  # the head is drawn on the plain background
    front = [names.index(c) for c in ("Fz", "Cz", "Pz", "Oz") if c in names]
    assert not front or list(np.argsort(ys[front])) == list(range(len(front)))  # nose up
    scene = make_scene(Options(montage=name, size=(300, 200)))
    assert len(scene_bands(scene, 10)) == n


def test_montage_render_and_errors(tmp_path, capsys, wav):
    out = tmp_path / "m.mp4"
    code, err = cli(capsys, "render", wav, "-o", out, *FAST, "--montage", "biosemi32",
                    "--size", "96x96", "--dot-size", "auto", "--duration", "0.3")
    assert code == 0 and len(decode_nv12(out, (96, 96))) == 3, err
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "x.mp4", "--montage", "nope")
    assert code == 2 and "--montage must be one MNE ships, got 'nope'" in err
    assert "biosemi64" in err
    code, err = cli(capsys, "render", wav, "-o", tmp_path / "x.mp4", "--montage",
                    "biosemi32", "--electrodes", demo_scene()[1])
    assert code == 2 and "montage" in err


def test_auto_dot_size():
    xs, ys = np.meshgrid(np.arange(5) * 30.0, np.arange(4) * 30.0)
    points = auto_dot_size(xs.ravel(), ys.ravel(), 720)
    assert points == pytest.approx(27.0)  # 720 points across 720 px: 0.9 of 30 px
    renderer = make_renderer(Options(background=np.zeros((100, 720, 3), np.uint8),
                                     electrodes=np.column_stack([xs.ravel(), ys.ravel()]),
                                     dot_size="auto"))
    assert 2 * renderer.radius_scale[0] == pytest.approx(27.0)  # the largest diameter
    with pytest.raises(ValueError, match="dot_size"):
        Options(dot_size="big")


# ----------------------------------------------------------------------------- previews

def _luma(rgb):
    return rgb.astype(float) @ YCBCR[0, :3] + YCBCR[0, 3]


def test_frame_preview_equals_the_lossless_video_frame(tmp_path, capsys, wav, picture):
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n8,8\n30,12\n20,4\n")
    scene = ["--background", picture, "--electrodes", tmp_path / "e.csv", "--size", "64x32",
             "--dot-size", "40"]
    video = tmp_path / "v.mp4"
    assert cli(capsys, "render", wav, "-o", video, *FAST, "--crf", "0", *scene)[0] == 0
    decoded = decode_nv12(video, (64, 32))
    assert len(decoded) == 10
    options = dict(background=picture, electrodes=tmp_path / "e.csv", size=(64, 32),
                   dot_size=40.0, fps="10")
    plan = plan_render(wav, Options(**options))
    for at, index in ((0.0, 0), (0.55, 5), (0.99, 9)):
        png = tmp_path / f"f{index}.png"
        code, err = cli(capsys, "frame", wav, "--at", at, "-o", png, "--fps", "10", *scene)
        assert code == 0, err
        rgb = np.asarray(Image.open(png))
        assert rgb.shape == (32, 64, 3)
        # the frame before encoding, exactly, and the PNG's own luma within rounding
        assert (plan.renderer.frames_nv12(plan.values(index, index + 1))[0]
                == decoded[index]).all()
        assert np.abs(_luma(rgb) - decoded[index][:32]).max() <= 1.0
        assert (rgb == fastviz._render.frame(wav, at, **options)).all()
    code, err = cli(capsys, "frame", wav, "--at", "5", "-o", tmp_path / "late.png")
    assert code == 1 and "past the video's end" in err
    code, err = cli(capsys, "frame", wav, "--at", "0", "-o", tmp_path / "f.mp4")
    assert code == 2 and ".png" in err  # a usage error


def test_previews_at_an_odd_size_show_the_videos_picture(tmp_path, capsys, wav, picture):
    """At 65 x 33 the video is 66 x 34 (4:2:0 needs even sizes: one black column and
    row), and the preview used to be 65 x 33; the frame size is now decided once, in
    the scene, so the PNG, the layout and the video agree (luma within 1 at crf 0).
    Formats without 4:2:0 (GIF, ProRes 4:4:4, PNG frames) keep 65 x 33."""
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n8,8\n30,12\n20,4\n")
    scene = ["--background", picture, "--electrodes", tmp_path / "e.csv", "--size", "65x33"]
    video = tmp_path / "v.mp4"
    assert cli(capsys, "render", wav, "-o", video, *FAST, "--crf", "0", *scene)[0] == 0
    decoded = decode_nv12(video, (66, 34))
    code, err = cli(capsys, "frame", wav, "--at", "0.5", "-o", tmp_path / "f.png",
                    "--fps", "10", *scene)
    assert code == 0, err
    rgb = np.asarray(Image.open(tmp_path / "f.png"))
    assert rgb.shape == (34, 66, 3) and (rgb[-1] == 0).all() and (rgb[:, -1] == 0).all()
    assert np.abs(_luma(rgb) - decoded[5][:34]).max() <= 1.0
    assert cli(capsys, "layout", "-o", tmp_path / "l.png", *scene)[0] == 0
    assert np.asarray(Image.open(tmp_path / "l.png")).shape == (34, 66, 3)
    assert make_scene(Options(size=(65, 33), format="gif")).background.shape == (33, 65, 3)


def test_layout_labels_every_electrode(tmp_path, capsys, picture):
    (tmp_path / "e.csv").write_text("name,x_2d,y_2d,band\nA,5,5,1\nB,30,15,2\n")
    out = tmp_path / "layout.png"
    code, err = cli(capsys, "layout", "--background", picture, "--electrodes",
                    tmp_path / "e.csv", "--size", "400x200", "-o", out)
    assert code == 0, err
    image = np.asarray(Image.open(out))
    plain = make_scene(Options(background=picture, electrodes=tmp_path / "e.csv",
                               size=(400, 200))).background
    changed = np.argwhere((image != plain).any(axis=2))
    assert len(changed) > 100  # marks and text
    assert changed[:, 1].max() > 300  # B's label reaches right of its mark at x = 305
    assert cli(capsys, "layout", "-o", out)[0] == 1  # exists: kept without -y
    assert cli(capsys, "layout", "-o", out, "-y", "--montage", "biosemi16")[0] == 0
    assert np.asarray(Image.open(out)).shape == (800, 800, 3)


def label_pixels(image, plain):
    """Where a layout wrote its dark label text over the plain picture."""
    return (image != plain).any(axis=2) & (image.max(axis=2) < 60)


def test_layout_labels_stay_inside_the_frame_and_grow_with_it(tmp_path):
    """Labels at the right and bottom edges were cut off, and the font stayed tiny (9 px
    on the 800 x 600 brain); now a label flips to its electrode's left at the right
    edge, stays inside vertically, and the font is a 50th of the shorter side."""
    from fastviz._scene import Scene, draw_layout

    white = np.full((120, 200, 3), 255, np.uint8)
    label = "EDGE99"

    def drawn(x, y, picture=white):
        scene = Scene(picture, np.array([float(x)]), np.array([float(y)]), (label,))
        text = label_pixels(draw_layout(scene, [9]), picture)
        rows, cols = np.indices(text.shape)
        text[np.hypot(rows - y, cols - x) <= 2.6] = False  # the mark (r = 2), not the label
        return text

    whole = drawn(60, 60).sum()
    for x, y in ((199, 60), (197, 119), (100, 0), (0, 119)):
        text = drawn(x, y)
        assert text.sum() == pytest.approx(whole, rel=0.02), (x, y)  # nothing cut off
    assert np.argwhere(drawn(199, 60))[:, 1].max() < 199  # flipped to the left
    brain = make_scene(Options())
    big = label_pixels(fastviz.layout(), brain.background)
    rows = np.flatnonzero(big.any(axis=1))
    heights = np.diff(np.flatnonzero(np.diff(rows) > 1), prepend=-1)  # rows per label line
    assert np.median(heights) >= 9  # the 12 px font's digits; 9 px gave 6-7
    tall = drawn(300, 300, np.full((1600, 1600, 3), 255, np.uint8))  # a 32 px font
    assert np.ptp(np.argwhere(tall)[:, 0]) > 2 * np.ptp(np.argwhere(drawn(60, 60))[:, 0])


def test_transparent_pixels_show_bg_color_after_the_look(tmp_path):
    """An RGBA picture's transparent half came out (153, 153, 153) under --look dark
    --bg-color white (brightness 0.6 dimmed the white it was composited over) while
    the letterbox was white: the look changes the picture, then bg_color shows."""
    rgba = np.zeros((20, 40, 4), np.uint8)
    rgba[:, :20] = (255, 255, 255, 255)  # opaque white left half, transparent right
    Image.fromarray(rgba).save(tmp_path / "half.png")
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n5,5\n")
    scene = make_scene(Options(**{**load_look("dark"), "bg_color": "white"},
                               background=tmp_path / "half.png",
                               electrodes=tmp_path / "e.csv", size=(80, 20)))
    picture = scene.background
    assert (picture[:, 20:40] == 0).all()  # the opaque white page inverted to black
    assert (picture[:, 45:60] == 255).all() and (picture[:, :15] == 255).all()  # bg, pad
    grey = make_scene(Options(background=tmp_path / "half.png", electrodes=tmp_path /
                              "e.csv", brightness=0.5, bg_color="red")).background
    assert (grey[:, :20] == 128).all() and (grey[:, 20:] == (255, 0, 0)).all()


@pytest.mark.parametrize("top", [1.0, 255.0])
def test_float_pictures_in_either_range(tmp_path, top):
    """A mode F (float) TIFF stored as 0..255 turned white above 1/255; floats are read
    as 0..1 when no value exceeds 1, else as 0..255 (Pillow's scale for mode F)."""
    ramp = np.linspace(0, 1, 64, dtype=np.float32)[None].repeat(4, axis=0)
    Image.fromarray(ramp * top).save(tmp_path / "f.tif")  # mode F
    expected = (ramp * 255 + 0.5).astype(np.uint8)
    assert np.abs(load_background(tmp_path / "f.tif")[..., 0].astype(int) - expected).max() <= 1
    array = np.repeat((ramp * top)[..., None], 3, axis=2).astype(float)
    assert np.abs(load_background(array)[..., 0].astype(int) - expected).max() <= 1


def test_looks_and_montages_are_named_in_their_errors(tmp_path, capsys, wav):
    """A look's cmap of 5 or [] ended in "unexpected TypeError (a fastviz bug)"; a
    missing look file was "neither a bundled look nor a .toml file"; --bg-color named
    the TOML key; the montage list lacked standard_1020, which the README recommends
    and which MNE 1.13 renamed colin27_1020."""
    for value in ("5", "[]", '"nomap"', '["red", 3]'):
        (tmp_path / "bad.toml").write_text(f"[bad]\ncmap = {value}\n")
        code, err = cli(capsys, "layout", "--look", tmp_path / "bad.toml", "-o",
                        tmp_path / "l.png")
        assert code == 1 and "look bad in" in err and "the cmap value must be" in err, err
        assert "unexpected" not in err
    code, err = cli(capsys, "layout", "--look", tmp_path / "missing.toml", "-o",
                    tmp_path / "l.png")
    assert code == 1 and "look file not found" in err and "missing.toml" in err
    code, err = cli(capsys, "layout", "--bg-color", "notacolour", "-o", tmp_path / "l.png")
    assert code == 2 and err.startswith("error: --bg-color must be a colour"), err
    code, err = cli(capsys, "layout", "--montage", "nope", "-o", tmp_path / "l.png")
    assert code == 2 and "standard_1020" in err
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning for the older name
        assert len(montage_scene("standard_1020", (100, 100))[1]) > 80
    assert not (tmp_path / "l.png").exists()


# ----------------------------------------------------------------------------- looks

def test_looks_by_name_and_from_a_file(tmp_path, capsys, wav):
    code = main(["looks"])
    listed = capsys.readouterr().out
    assert code == 0 and all(name in listed for name in ("post", "dark", "colorblind"))
    dark = make_scene(Options(**load_look("dark")))
    assert (dark.background[0, 0] == 0).all()  # the white page turned black
    look = tmp_path / "mine.toml"
    look.write_text('[first]\ncmap = "red"\n\n[second]\ncmap = ["blue", "yellow"]\n'
                    'bg_color = "#204060"\n')
    assert load_look(look) == {"cmap": "red"}
    assert load_look(f"{look}:second")["bg_color"] == "#204060"
    out = tmp_path / "f.png"
    code, err = cli(capsys, "frame", wav, "--at", "0.5", "-o", out, "--look", look,
                    "--size", "64x48", "--cmap", "lime")  # a flag wins over the look
    assert code == 0, err
    frame = np.asarray(Image.open(out))
    assert ((frame == (0, 255, 0)).all(axis=2)).any() and not (
        (frame == (255, 0, 0)).all(axis=2)).any()
    layout = tmp_path / "l.png"
    assert cli(capsys, "layout", "--montage", "biosemi16", "--size", "40x40",
               "--look", f"{look}:second", "-o", layout)[0] == 0
    assert np.asarray(Image.open(layout))[0, 0].tolist() == [32, 64, 96]
    look.write_text('[x]\ncolour = "red"\n')
    code, err = cli(capsys, "layout", "--look", look, "-o", tmp_path / "l2.png")
    assert code == 1 and "mine.toml" in err and "colour" in err
    code, err = cli(capsys, "layout", "--look", "neon", "-o", tmp_path / "l2.png")
    assert code == 2 and "neon" in err and "colorblind" in err


def test_crop_may_not_cut_electrodes_off(tmp_path, picture):
    (tmp_path / "e.csv").write_text("name,x_2d,y_2d\nA,20,10\nEdge,2,10\n")
    with pytest.raises(InputError, match="crop cuts 1 electrode.*Edge"):
        make_scene(Options(background=picture, electrodes=tmp_path / "e.csv",
                           size=(40, 40), fit="crop"))


def test_bands_do_not_move_with_the_frame_size(tmp_path, picture):
    rows = "\n".join(f"{20},{y}" for y in np.linspace(0, 19, 11))
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n" + rows + "\n")
    bands = [tuple(scene_bands(make_scene(Options(background=picture, size=size,
                                                  electrodes=tmp_path / "e.csv")), 10))
             for size in (None, (1920, 1080), (333, 251), (123, 457))]
    assert len(set(bands)) == 1


def test_an_extra_cell_and_a_dataframe(tmp_path, picture):
    import pandas as pd

    (tmp_path / "e.csv").write_text("x_2d,y_2d\n10,10,5\n")
    with pytest.raises(InputError, match="more cells than the header"):
        make_scene(Options(background=picture, electrodes=tmp_path / "e.csv"))
    table = pd.DataFrame({"x_2d": [5.0, 30.0], "y_2d": [5.0, 15.0], "band": [7, 2]})
    scene = make_scene(Options(background=picture, electrodes=table))
    assert list(scene_bands(scene, 10)) == [7, 2]


def test_auto_dot_size_ignores_repeated_electrodes():
    xs, ys = [0, 10, 20, 0, 10, 20], [0, 0, 0, 0, 0, 0]
    assert auto_dot_size(xs, ys, 1440) == auto_dot_size(xs[:3], ys[:3], 1440)


@pytest.mark.parametrize("body, words", [('invert = "no"', "true or false"),
                                         ("brightness = -2", "above 0"),
                                         ('brightness = "bright"', "above 0"),
                                         ("alpha = 5", "from 0 to 1"),
                                         ("dot_size = -5", "above 0")])
def test_look_values_are_checked_and_the_look_named(tmp_path, body, words):
    (tmp_path / "look.toml").write_text(f"[mine]\n{body}\n")
    with pytest.raises(InputError, match=f"look mine in .*look.toml: .*{words}"):
        load_look(tmp_path / "look.toml")


def test_rows_are_lines_of_the_file_blank_lines_included(tmp_path, picture):
    (tmp_path / "e.csv").write_text("x_2d,y_2d\n\n10,10\n\n20,abc\n")
    with pytest.raises(InputError, match="row 5, column y_2d"):
        make_scene(Options(background=picture, electrodes=tmp_path / "e.csv"))


def test_a_colour_as_numbers_joined_by_commas(tmp_path, capsys):
    """The message offers numbers; the command line takes them joined by commas."""
    from fastviz.cli import main

    out = tmp_path / "l.png"
    assert main(["layout", "--montage", "biosemi32", "--size", "64x64", "--bg-color",
                 "0.5,0.5,0.5", "-o", str(out)]) == 0
    assert tuple(np.asarray(Image.open(out))[0, 0]) == (128, 128, 128)
    assert main(["layout", "--montage", "biosemi32", "--bg-color", "0.5,x", "-o",
                 str(tmp_path / "m.png")]) == 2
    assert "--bg-color must be a colour" in capsys.readouterr().err
