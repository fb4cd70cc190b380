"""hub.yaml: validated, with errors that name the file, the line and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import ConfigError, load_config

runner = CliRunner()

GOOD = """\
communities:
  - slug: makers
    name: Makers Collective
    timezone: Europe/Paris
    promoters: ["Alice Martin", {platform: whatsapp, account: "+33 6 12 34 56 78"}]
    sources:
      - platform: whatsapp
        path: exports/WhatsApp Chat with Makers.txt
        channel: Makers main
      - platform: whatsapp
        inbox: inbox/makers
  - slug: repair-cafe
    timezone: Europe/London
"""


def test_a_valid_configuration(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(GOOD)
    config = load_config(path)
    makers = config.community("makers")
    assert (makers.display_name, makers.timezone, len(makers.sources)) == ("Makers Collective", "Europe/Paris", 2)
    assert makers.promoters[0].name == "Alice Martin" and makers.promoters[1].account == "+33 6 12 34 56 78"
    assert config.community("repair-cafe").display_name == "repair-cafe"
    # A file under a configured path or inbox belongs to that source, relative to the file's folder.
    found = config.source_for(tmp_path / "inbox" / "makers" / "chat.txt")
    assert found is not None and found[0].slug == "makers" and found[1].inbox == Path("inbox/makers")
    assert config.source_for(tmp_path / "elsewhere.txt") is None
    with pytest.raises(ConfigError, match="several communities"):
        config.community(None)


@pytest.mark.parametrize(("text", "message"), [
    ("communities:\n  - slug: makers\n    timezone: Europe/Pariss\n",
     "hub.yaml:3: communities[0].timezone: unknown time zone 'Europe/Pariss'"),
    ("communities:\n  - slug: Makers Club\n",
     "hub.yaml:2: communities[0].slug: String should match pattern"),
    ("communities:\n  - slug: a\n    sources:\n      - platform: whatsapp\n        path: x.txt\n        inbox: y\n",
     "hub.yaml:4: communities[0].sources[0]: a source needs exactly one of path, inbox or token_env"),
    ("communities:\n  - slug: a\n    sources:\n      - platform: whatsap\n        path: x.txt\n",
     "hub.yaml:4: communities[0].sources[0].platform: Input should be"),
    ("communities:\n  - slug: a\n    sources:\n      - platform: slack\n        token_env: xoxb-123-secret\n",
     "hub.yaml:5: communities[0].sources[0].token_env: token_env is the NAME of an environment variable"),
    ("communities:\n  - slug: a\n    colour: blue\n", "hub.yaml:3: communities[0].colour: Extra inputs are not permitted"),
    ("communities:\n  - slug: a\n  - slug: a\n", "hub.yaml:1: communities: community slugs must be unique: a"),
    ("communities:\n  - slug: makers__slack_a\n", "hub.yaml:1: communities: community slug 'makers__slack_a': '__'"),
    ("communities:\n  - slug: north-makers\n  - slug: north_makers\n",
     "hub.yaml:1: communities: community slugs 'north-makers' and 'north_makers' differ only by '-' and '_'"),
    ("communities: [\n", "hub.yaml:2: not valid YAML"),
    # A weight that is not a finite number, or below 0, would store NaN reputations or reward being ignored.
    ("communities:\n  - slug: a\n    scoring:\n      weights: {answers: .nan}\n",
     "hub.yaml:4: communities[0].scoring.weights.answers: Input should be a finite number"),
    ("communities:\n  - slug: a\n    scoring:\n      weights: {answers: -1}\n",
     "hub.yaml:4: communities[0].scoring.weights.answers: Input should be greater than or equal to 0"),
])
def test_errors_name_the_line_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert message in str(error.value).replace(str(tmp_path) + "/", "")


def test_no_configuration_means_one_ad_hoc_community(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config()
    assert config.communities == [] and config.community(None).slug == "default"
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "missing.yaml")


def test_ingest_uses_the_community_channel_and_time_zone_of_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "WhatsApp Chat with Makers.txt").write_text("27/03/2022, 21:41 - Ana: hi\n")
    (tmp_path / "hub.yaml").write_text(GOOD)
    db = tmp_path / "hub.duckdb"
    result = runner.invoke(app, ["ingest", str(tmp_path / "exports"), "--db", str(db),
                                 "--config", str(tmp_path / "hub.yaml")])
    assert result.exit_code == 0, result.output
    query = runner.invoke(app, ["query", "--db", str(db), "--format", "json", """
        SELECT m.community, c.name AS channel, strftime(m.sent_at AT TIME ZONE 'UTC', '%H:%M') AS utc,
               k.name AS community_name, k.timezone
        FROM messages m JOIN channels c USING (channel_id) JOIN communities k ON k.community = m.community"""])
    assert query.output.strip() == ('[{"community": "makers", "channel": "Makers main", "utc": "19:41", '
                                    '"community_name": "Makers Collective", "timezone": "Europe/Paris"}]')


def test_a_bad_configuration_stops_the_command_with_its_errors(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("communities:\n  - slug: makers\n    timezone: Mars/Olympus\n")
    result = runner.invoke(app, ["ingest", str(tmp_path), "--config", str(tmp_path / "hub.yaml")])
    assert result.exit_code == 2
    assert "hub.yaml:3: communities[0].timezone: unknown time zone 'Mars/Olympus'" in result.output
