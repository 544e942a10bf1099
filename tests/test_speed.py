"""Speed by name: the measured x264 points, and experts' --preset and --crf over them."""
import pytest

from fastviz import Options
from fastviz._formats import DEFAULT_SPEED, SPEEDS, X264_PRESETS
from fastviz.cli import main


def test_speed_names_pick_measured_settings():
    assert DEFAULT_SPEED in SPEEDS and set(SPEEDS) == {"fastest", "balanced", "smallest"}
    for name, (preset, crf) in SPEEDS.items():
        assert preset in X264_PRESETS and 0 <= crf <= 51
        assert (Options(speed=name).preset, Options(speed=name).crf) == (preset, crf)
    assert (Options().preset, Options().crf) == SPEEDS[DEFAULT_SPEED]
    fastest = X264_PRESETS.index(SPEEDS["fastest"][0])
    assert fastest <= X264_PRESETS.index(SPEEDS["smallest"][0])
    # an expert's preset or crf replaces the speed's own, the other one stays
    assert (Options(speed="smallest", crf=18).preset, Options(speed="smallest",
                                                              crf=18).crf) == (
        SPEEDS["smallest"][0], 18)
    assert Options(speed="fastest", preset="slow").crf == SPEEDS["fastest"][1]


def test_the_help_says_what_each_speed_is():
    from fastviz.cli import _parser

    words = " ".join(_parser()._subparsers._group_actions[0].choices["render"]
                     .format_help().split())
    for name, (preset, crf) in SPEEDS.items():
        assert f"{name} ({preset}, CRF {crf})" in words


def test_an_unknown_speed_is_refused(tmp_path, capsys):
    with pytest.raises(ValueError, match="speed must be one of fastest, balanced, smallest"):
        Options(speed="warp")
    assert main(["demo", "-o", str(tmp_path / "d.mp4"), "--speed", "warp"]) == 2
    assert "--speed must be one of" in capsys.readouterr().err
