"""The command-line dispatcher: usage errors exit 2 without a traceback."""
from mmreview.cli import main


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["--no-such-option"]) == 2
    assert "Traceback" not in capsys.readouterr().err
