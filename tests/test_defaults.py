"""Every default is stated once, in docret.defaults, and everything else reads it there."""

import inspect
import subprocess
import sys
from dataclasses import MISSING, fields

import click
import pytest

from docret.cli import cli
from docret.defaults import ACTIVATIONS, DEFAULTS, Defaults
from docret.encoder import Encoder
from docret.inference import NUMPY_ACTIVATIONS


def test_encoder_arguments_are_the_defaults():
    params = inspect.signature(Encoder).parameters
    settings = {name: p.default for name, p in params.items() if name != "progress"}
    assert settings == DEFAULTS.as_dict()
    assert Encoder().get_settings() == {**DEFAULTS.as_dict(), "hidden": list(DEFAULTS.hidden)}


@pytest.mark.parametrize("command", ["index", "retrain", "evaluate"])
def test_cli_model_options_show_the_defaults_and_their_help(command):
    options = {p.name: p for p in cli.commands[command].params if isinstance(p, click.Option)}
    for name, value in DEFAULTS.as_dict().items():
        if name not in options:
            continue  # not a command-line option (stemmer, code_noise, ...)
        option = options[name]
        assert option.help == Defaults.help(name)
        ctx = click.Context(cli.commands[command])
        parsed = option.process_value(ctx, option.get_default(ctx))
        assert parsed == value, name
    assert set(options["activation"].type.choices) == set(ACTIVATIONS)


def test_every_default_has_a_one_line_help():
    for f in fields(Defaults):
        text = Defaults.help(f.name)
        assert text and "\n" not in text and len(text) < 100, f.name


def test_model_and_inference_know_every_activation():
    from docret.model import ACTIVATIONS as MODEL_ACTIVATIONS
    from docret.model import AutoencoderConfig

    assert set(NUMPY_ACTIVATIONS) == set(ACTIVATIONS)
    assert MODEL_ACTIVATIONS is ACTIVATIONS
    for name in ACTIVATIONS:
        AutoencoderConfig(vocab_size=4, activation=name)
    with pytest.raises(ValueError):
        AutoencoderConfig(vocab_size=4, activation="swish")


def test_recorded_configs_agree_with_the_defaults_where_they_have_one():
    # AutoencoderConfig and TrainConfig record what was trained; any default they keep must
    # not drift from docret.defaults.
    from docret.model import AutoencoderConfig
    from docret.train import TrainConfig

    for record in (AutoencoderConfig, TrainConfig):
        for f in fields(record):
            if f.default is not MISSING and hasattr(DEFAULTS, f.name):
                assert f.default == getattr(DEFAULTS, f.name), f"{record.__name__}.{f.name}"


def test_defaults_import_nothing_but_the_standard_library():
    code = (
        "import sys, docret; before = set(sys.modules); import docret.defaults; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    new = out.stdout.split()
    assert "docret.defaults" in new
    outside = {m.split(".")[0] for m in new} - set(sys.stdlib_module_names) - {"_abc"}
    assert outside == {"docret"} and [m for m in new if m.startswith("docret")] == [
        "docret.defaults"
    ]
