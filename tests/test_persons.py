"""Identity resolution: one person across platforms, from exact evidence, reviewed decisions and
(proposed, never merged) similar names."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.config import ConfigError, load_config, load_identities
from hub.model import Account, Batch
from hub.persons import LOW, normalise_phone, record_merge, record_split, refresh_persons
from warehouse.load import SourceFile, load

runner = CliRunner(env={"COLUMNS": "250"})  # whole ids on one line, as on a wide terminal
UTC = dt.timezone.utc


def day(month: int, d: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, d, tzinfo=UTC)


def account(platform: str, native: str, name: str | None = None, *, community: str = "makers",
            seen: tuple[int, int] = (1, 6), **fields) -> Account:
    return Account(account_id=f"{platform}:{community}:{native}", platform=platform, community=community,
                   native_id=native, display_name=name, first_seen_at=day(seen[0]), last_seen_at=day(seen[1]),
                   **fields)


def add(con, *accounts: Account) -> None:
    by_platform: dict[tuple[str, str], list[Account]] = {}
    for a in accounts:
        by_platform.setdefault((a.platform, a.community), []).append(a)
    for (platform, community), rows in by_platform.items():
        source = SourceFile(platform, community, f"{platform}-accounts", sha256=f"{platform}{len(rows)}{rows[0].native_id}",
                            bytes=1, community_name=community, community_timezone="Europe/Paris")
        load(con, source, [Batch.of("accounts", rows)])


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(f"communities:\n  - slug: makers\n    timezone: Europe/Paris\n{extra}")
    return path


def persons_of(con, community: str = "makers") -> dict[str, set[str]]:
    """person_id -> its account ids."""
    found: dict[str, set[str]] = {}
    for person, account_id in con.execute(
            """SELECT pa.person_id, pa.account_id FROM person_accounts pa JOIN persons p USING (person_id)
               WHERE p.community = ?""", [community]).fetchall():
        found.setdefault(person, set()).add(account_id)
    return found


def together(con, *account_ids: str) -> bool:
    return any(set(account_ids) <= accounts for accounts in persons_of(con).values())


def link(con, account_id: str) -> tuple[str, float]:
    return con.execute("SELECT method, confidence FROM person_accounts WHERE account_id = ?", [account_id]).fetchone()


def suggestion(con, a: str, b: str) -> tuple[float, str] | None:
    return con.execute(
        """SELECT confidence, reason FROM identity_suggestions
           WHERE (account_id, other_account_id) IN ((?, ?), (?, ?))""", [a, b, b, a]).fetchone()


def test_the_same_email_on_slack_and_facebook_is_one_person(con, tmp_path: Path) -> None:
    add(con, account("slack", "U01", "Alice Martin", handle="alice", email="Alice.Martin@Example.org"),
        account("facebook", "name:Alice M.", "Alice M.", email=" alice.martin@example.org"),
        account("slack", "U02", "Bruno Rossi", email="bruno@example.org"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert together(con, "slack:makers:U01", "facebook:makers:name:Alice M.")
    assert link(con, "facebook:makers:name:Alice M.") == ("email", 0.99)
    assert link(con, "slack:makers:U02") == ("single", 1.0)
    (name,) = con.execute("""SELECT display_name FROM persons JOIN person_accounts USING (person_id)
                             WHERE account_id = 'slack:makers:U01'""").fetchone()
    assert name == "Alice Martin"  # the full name, not the Facebook initial


def test_the_same_phone_in_any_formatting_is_one_person(con, tmp_path: Path) -> None:
    add(con, account("whatsapp", "+33 6 12 34 56 78", "+33 6 12 34 56 78", phone="+33612345678"),
        account("slack", "U01", "Chiara Nowak", phone="0033612345678"),
        account("telegram", "user7", "Chiara N", phone="+33 6 12 34 56 78"),
        # A French national number is read with the community's country (Europe/Paris).
        account("discord", "42", "chiara", phone="06 12 34 56 78"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert together(con, "whatsapp:makers:+33 6 12 34 56 78", "slack:makers:U01", "telegram:makers:user7",
                    "discord:makers:42")
    assert {link(con, a)[0] for a in ("slack:makers:U01", "telegram:makers:user7")} == {"phone"}
    assert {normalise_phone(p) for p in ("+33 6 12 34 56 78", "0033612345678", "+33612345678")} == {"+33612345678"}
    assert normalise_phone("06 12 34 56 78") is None  # no country: not comparable
    assert normalise_phone("06 12 34 56 78", "FR") == "+33612345678"


def test_the_same_handle_on_two_platforms_is_one_person_a_little_less_surely(con, tmp_path: Path) -> None:
    add(con, account("telegram", "user1", "Dmitri", handle="@DmitriK"),
        account("discord", "77", "dk", handle="dmitrik"),
        # Two accounts of one platform with a handle leave it unclear which one is Discord's.
        account("slack", "U1", "Emma Silva", handle="emma"), account("slack", "U2", "Emma S.", handle="emma"),
        account("discord", "78", "Emma", handle="emma"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert together(con, "telegram:makers:user1", "discord:makers:77")
    assert link(con, "discord:makers:77") == ("handle", 0.9)
    assert not together(con, "slack:makers:U1", "discord:makers:78")
    assert not together(con, "slack:makers:U2", "discord:makers:78")


def test_an_account_known_only_by_name_is_the_one_account_of_its_platform_with_that_name(con, tmp_path: Path) -> None:
    """An older Telegram export lists an invited member by name only (`name:Luis Kaur`); a later one
    shows them writing as user2. One person, not a ghost beside them. Two accounts with the name
    leave it unclear: nothing is joined."""
    add(con, account("telegram", "name:Luis Kaur", "Luis Kaur"), account("telegram", "user2", "Luis Kaur"),
        account("telegram", "name:Ana Li", "Ana Li"), account("telegram", "user3", "Ana Li"),
        account("telegram", "user4", "Ana Li"), account("slack", "U9", "Luis Kaur"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert together(con, "telegram:makers:name:Luis Kaur", "telegram:makers:user2")
    assert link(con, "telegram:makers:name:Luis Kaur") == ("named", 0.95)
    assert not together(con, "telegram:makers:user2", "slack:makers:U9")  # another platform: proposed only
    assert not any(together(con, "telegram:makers:name:Ana Li", other)
                   for other in ("telegram:makers:user3", "telegram:makers:user4"))


def test_accounts_sharing_an_email_join_as_far_as_never_merge_allows(con, tmp_path: Path) -> None:
    """E1, E2, E3 share an e-mail; decisions join them to Y, X and X2, and Y is never X nor X2. E1
    cannot join the others, but E2 and E3 still can."""
    add(con, *(account("slack", f"E{i}", f"E {i}", email="same@example.org") for i in (1, 2, 3)),
        account("discord", "Y", "Y"), account("discord", "X", "X"), account("discord", "X2", "X2"))
    config = write_config(tmp_path, "    identities: ids.yaml\n")
    (tmp_path / "ids.yaml").write_text(
        "merge:\n  - [slack:makers:E1, discord:makers:Y]\n  - [slack:makers:E2, discord:makers:X]\n"
        "  - [slack:makers:E3, discord:makers:X2]\n"
        "never_merge:\n  - [discord:makers:Y, discord:makers:X]\n  - [discord:makers:Y, discord:makers:X2]\n")
    refresh_persons(con, load_config(config))
    assert together(con, "slack:makers:E2", "slack:makers:E3", "discord:makers:X", "discord:makers:X2")
    assert together(con, "slack:makers:E1", "discord:makers:Y")
    assert not together(con, "slack:makers:E1", "slack:makers:E2")


def test_the_same_full_name_on_two_platforms_is_suggested_not_merged(con, tmp_path: Path) -> None:
    add(con, account("whatsapp", "Inès Dubois", "Inès Dubois", seen=(1, 6)),
        account("telegram", "user5", "ines DUBOIS 🌻", seen=(3, 9)),
        account("slack", "U5", "Dubois, Inès", seen=(1, 2)),
        account("discord", "5", "Ines Dubois", seen=(1, 2)),
        account("facebook", "name:Ine Dubois", "Iné Duboys", seen=(1, 3)))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert len(persons_of(con)) == 5  # nothing merged on a name
    overlapping = suggestion(con, "telegram:makers:user5", "whatsapp:makers:Inès Dubois")
    assert overlapping[0] == 0.95 and "same name" in overlapping[1] and "active at the same time" in overlapping[1]
    apart = suggestion(con, "slack:makers:U5", "telegram:makers:user5")  # word order aside, February apart
    assert apart[0] == 0.85 and "active 29 days apart" in apart[1]
    similar = suggestion(con, "facebook:makers:name:Ine Dubois", "whatsapp:makers:Inès Dubois")
    assert LOW < similar[0] < 0.85 and "similar names" in similar[1]


def test_a_first_name_alone_is_never_merged_nor_suggested_above_low(con, tmp_path: Path) -> None:
    add(con, account("slack", "U1", "Alex"), account("telegram", "user1", "Alex Chen"),
        account("discord", "1", "Alex Chen"), account("whatsapp", "Alex", "Alex"),
        account("facebook", "name:Alexandra", "Alexandra"), account("discord", "2", "Alexandra Ng"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert len(persons_of(con)) == 6
    # "Alex" is not "Alex Chen", nor "Alexandra" "Alexandra Ng", however similar the strings.
    for first, full in (("slack:makers:U1", "telegram:makers:user1"), ("whatsapp:makers:Alex", "discord:makers:1"),
                        ("facebook:makers:name:Alexandra", "discord:makers:2")):
        assert suggestion(con, first, full) is None
    low = suggestion(con, "slack:makers:U1", "whatsapp:makers:Alex")
    assert low[0] < LOW and "first name only" in low[1]
    # A third "Alex" makes it anybody's guess: not suggested at all.
    add(con, account("telegram", "user2", "alex"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert suggestion(con, "slack:makers:U1", "whatsapp:makers:Alex") is None


def test_names_alike_only_by_a_long_first_name_are_not_proposed(con, tmp_path: Path) -> None:
    add(con, account("slack", "U1", "Christopher Li"), account("telegram", "user1", "Christopher Wu"),
        account("discord", "1", "Konstantinos Li"), account("whatsapp", "Konstantinos Wu", "Konstantinos Wu"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert suggestion(con, "slack:makers:U1", "telegram:makers:user1") is None
    assert suggestion(con, "discord:makers:1", "whatsapp:makers:Konstantinos Wu") is None


def test_a_first_name_held_by_two_persons_one_on_two_platforms_is_a_hint(con, tmp_path: Path) -> None:
    # Two persons go by "Alex", one of them on Slack and Telegram (one e-mail): the hint stands.
    add(con, account("slack", "U1", "Alex", email="alex@example.org"),
        account("telegram", "user1", "Alex", email="ALEX@example.org "), account("discord", "1", "Alex"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert len(persons_of(con)) == 2
    hint = con.execute("SELECT confidence, reason FROM identity_suggestions").fetchall()
    assert len(hint) == 1 and hint[0][0] < LOW and "first name only" in hint[0][1]


def test_a_national_number_is_read_in_the_country_of_an_old_zone_name(con, tmp_path: Path) -> None:
    # `America/Montreal` is a link to `America/Toronto`: Canada all the same.
    add(con, account("slack", "U1", "Zoe", phone="(514) 555-0199"), account("whatsapp", "Zoé", "Zoé",
                                                                              phone="+15145550199"))
    path = tmp_path / "hub.yaml"
    path.write_text("communities:\n  - slug: makers\n    timezone: America/Montreal\n")
    refresh_persons(con, load_config(path))
    assert together(con, "slack:makers:U1", "whatsapp:makers:Zoé")


def test_namesakes_on_one_platform_share_the_likelihood(con, tmp_path: Path) -> None:
    add(con, account("slack", "U1", "Maria Garcia"), account("slack", "U2", "María García"),
        account("whatsapp", "Maria Garcia", "Maria Garcia"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    first = suggestion(con, "slack:makers:U1", "whatsapp:makers:Maria Garcia")
    second = suggestion(con, "slack:makers:U2", "whatsapp:makers:Maria Garcia")
    assert first[0] == second[0] == 0.475 and "2 persons on slack go by that name" in first[1]


def test_never_merge_beats_an_exact_email_and_the_reason_is_kept(con, tmp_path: Path) -> None:
    add(con, account("slack", "U1", "Grace Kim", email="family@example.org"),
        account("facebook", "name:Hiro Kim", "Hiro Kim", email="family@example.org"),
        account("telegram", "user9", "Grace", email="FAMILY@example.org"))
    config = write_config(tmp_path)
    (tmp_path / "makers.identities.yaml").write_text(
        "never_merge:\n  - [slack:makers:U1, facebook:makers:name:Hiro Kim]\n")
    refresh_persons(con, load_config(config))
    assert not together(con, "slack:makers:U1", "facebook:makers:name:Hiro Kim")
    # The third account still joins one of them by its e-mail (the first in id order).
    assert together(con, "facebook:makers:name:Hiro Kim", "telegram:makers:user9")
    confidence, reason = suggestion(con, "facebook:makers:name:Hiro Kim", "slack:makers:U1")
    assert confidence == 0
    assert "same e-mail family@example.org" in reason and "makers.identities.yaml" in reason


def test_merge_decisions_join_without_evidence(con, tmp_path: Path) -> None:
    add(con, account("whatsapp", "Mum", "Mum"), account("facebook", "name:Rosa Costa", "Rosa Costa"),
        account("slack", "B1", "Deploy bot", is_bot=True))
    identities = tmp_path / "people.yaml"
    identities.write_text("# reviewed by Rosa's son\nmerge:\n  - [whatsapp:makers:Mum, facebook:makers:name:Rosa Costa]\n")
    refresh_persons(con, load_config(write_config(tmp_path, "    identities: people.yaml\n")))
    assert together(con, "whatsapp:makers:Mum", "facebook:makers:name:Rosa Costa")
    assert link(con, "whatsapp:makers:Mum") == ("reviewed", 1.0)


def test_bots_are_not_persons(con, tmp_path: Path) -> None:
    add(con, account("slack", "B1", "GitHub", is_bot=True, email="noreply@github.com"),
        account("discord", "9", "GitHub", is_bot=True, email="noreply@github.com"),
        account("slack", "U1", "Jamal Haddad"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert list(persons_of(con).values()) == [{"slack:makers:U1"}]
    assert con.execute("SELECT count(*) FROM identity_suggestions").fetchone()[0] == 0


def test_person_ids_are_stable_across_recomputes(con, tmp_path: Path) -> None:
    add(con, account("slack", "U1", "Kofi Mensah", email="kofi@example.org"),
        account("telegram", "user3", "Kofi", email="kofi@example.org"), account("discord", "3", "Lena Kaur"))
    config = load_config(write_config(tmp_path))
    refresh_persons(con, config)
    first = con.execute("SELECT * FROM persons ORDER BY person_id").fetchall()
    links = con.execute("SELECT * FROM person_accounts ORDER BY account_id").fetchall()
    refresh_persons(con, config)
    assert con.execute("SELECT * FROM persons ORDER BY person_id").fetchall() == first
    assert con.execute("SELECT * FROM person_accounts ORDER BY account_id").fetchall() == links
    # The id comes from the person's smallest account id (slack:… sorts before telegram:…).
    person_of = {a: p for p, a, *_ in links}
    assert person_of["telegram:makers:user3"] == person_of["slack:makers:U1"] == \
        "person:makers:" + hashlib.sha256(b"slack:makers:U1").hexdigest()[:12]
    # A new account joining the person does not renumber anybody.
    add(con, account("whatsapp", "Kofi M", "Kofi M", email="KOFI@example.org"))
    refresh_persons(con, config)
    assert con.execute("SELECT * FROM persons ORDER BY person_id").fetchall() == first


def test_communities_are_resolved_apart(con, tmp_path: Path) -> None:
    add(con, account("slack", "U1", "Mei Chen", email="mei@example.org"),
        account("slack", "U1", "Mei Chen", email="mei@example.org", community="repair-cafe"),
        account("discord", "1", "Mei Chen", email="mei@example.org", community="repair-cafe"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert len(persons_of(con, "makers")) == 1 and len(persons_of(con, "repair-cafe")) == 1
    refresh_persons(con, load_config(write_config(tmp_path)), ["makers"])  # only its own rows replaced
    assert con.execute("SELECT count(*) FROM person_accounts").fetchone()[0] == 3


def test_merge_and_split_through_the_cli_keep_every_account_in_one_person(db_path: Path, tmp_path: Path) -> None:
    from warehouse.db import connect

    accounts = ["slack:makers:U1", "telegram:makers:user1", "discord:makers:1", "whatsapp:makers:Noah"]
    with connect(db_path) as con:
        add(con, account("slack", "U1", "Noah Andersson", email="noah@example.org"),
            account("telegram", "user1", "Noah A", email="noah@example.org"),
            account("discord", "1", "Noah Andersson"), account("whatsapp", "Noah", "Noah"))
    config = write_config(tmp_path)
    identities = tmp_path / "makers.identities.yaml"
    identities.write_text("# Who is who in Makers: reviewed by the promoters.\nmerge: []\nnever_merge: []\n")
    options = ["--db", str(db_path), "--config", str(config)]

    def check_partition() -> dict[str, set[str]]:
        with connect(db_path) as con:
            found = persons_of(con)
            rows = con.execute("SELECT account_id FROM person_accounts").fetchall()
        assert sorted(a for (a,) in rows) == sorted(accounts)  # each account exactly once
        return found

    result = runner.invoke(app, ["persons", "suggest", *options])
    assert result.exit_code == 0, result.output
    assert "discord:makers:1" in result.output and "same name" in result.output

    result = runner.invoke(app, ["persons", "merge", "discord:makers:1", "whatsapp:makers:Noah",
                                 "slack:makers:U1", *options])
    assert result.exit_code == 0, result.output
    assert len(check_partition()) == 1
    again = runner.invoke(app, ["persons", "merge", "whatsapp:makers:Noah", "discord:makers:1", *options])
    assert "already merged" in again.output
    assert load_identities(identities).merge == [["discord:makers:1", "whatsapp:makers:Noah", "slack:makers:U1"]]

    result = runner.invoke(app, ["persons", "split", "slack:makers:U1", "telegram:makers:user1", *options])
    assert result.exit_code == 0, result.output
    found = check_partition()
    assert len(found) == 2 and not any({"slack:makers:U1", "telegram:makers:user1"} <= s for s in found.values())
    result = runner.invoke(app, ["persons", "split", "whatsapp:makers:Noah", "discord:makers:1", *options])
    assert result.exit_code == 0, result.output
    found = check_partition()
    assert not any({"whatsapp:makers:Noah", "discord:makers:1"} <= s for s in found.values())
    decisions = load_identities(identities)  # the merge of three lost the second account of the split
    assert decisions.merge == [["whatsapp:makers:Noah", "slack:makers:U1"]]
    assert decisions.never_merge == [["slack:makers:U1", "telegram:makers:user1"],
                                     ["whatsapp:makers:Noah", "discord:makers:1"]]
    assert identities.read_text().startswith("# Who is who in Makers: reviewed by the promoters.")

    # Merging again what was split removes the never_merge: nothing is merged twice or lost.
    result = runner.invoke(app, ["persons", "merge", "telegram:makers:user1", "slack:makers:U1", *options])
    assert result.exit_code == 0, result.output
    assert "removed never_merge [slack:makers:U1, telegram:makers:user1]" in result.output
    found = check_partition()
    assert any({"slack:makers:U1", "telegram:makers:user1", "whatsapp:makers:Noah"} <= s for s in found.values())

    shown = runner.invoke(app, ["persons", "show", "noah", *options])
    assert shown.exit_code == 0 and "telegram:makers:user1" in shown.output and "reviewed" in shown.output
    unknown = runner.invoke(app, ["persons", "merge", "slack:makers:U1", "slack:makers:U404", *options])
    assert unknown.exit_code == 2 and "no such account: slack:makers:U404" in unknown.output


def test_the_decisions_file_is_checked_like_the_configuration(tmp_path: Path) -> None:
    path = tmp_path / "makers.identities.yaml"
    path.write_text("merge:\n  - [a, b]\n  - [c]\nnever_merge:\n  - [d, e]\n")
    with pytest.raises(ConfigError, match=r"makers.identities.yaml:3: merge\[1\]: a merge is a list of at least two"):
        load_identities(path)
    path.write_text("merge:\n  - [a, b]\nnever_merge:\n  - [x, y]\n  - [b, a]\n")
    with pytest.raises(ConfigError, match=r"makers.identities.yaml:5: never_merge\[1\]: b and a are also merged"):
        load_identities(path)
    path.write_text("merge: []\nnevermerge: []\n")
    with pytest.raises(ConfigError, match=r"makers.identities.yaml:2: nevermerge: Extra inputs"):
        load_identities(path)
    config = load_config(write_config(tmp_path, "    identities: reviewed/people.yaml\n"))
    assert config.identities_file("makers") == tmp_path / "reviewed" / "people.yaml"
    assert config.identities_file("other") == tmp_path / "other.identities.yaml"


def test_a_simulated_community_on_four_platforms(con, tmp_path: Path) -> None:
    """Simulated exports: Slack and Discord usernames agree (alice.martin) and merge; the rest of
    the same members, known by name only, are suggested."""
    from hub.config import HubConfig
    from hub.ingest import ingest_file
    from hub.simulate import discord, simulate, slack, telegram, whatsapp

    sim = simulate(members=30, days=90, seed=3)
    paths = [slack.write_export(slack.workspace(sim), tmp_path / "slack"),
             discord.write_export(discord.channel(sim), tmp_path / "discord.json"),
             telegram.write_export(telegram.chat(sim), tmp_path / "tg" / "result.json"),
             whatsapp.write_export(sim, tmp_path, "android_en_gb")]
    for path in paths:
        assert ingest_file(con, path, config=HubConfig(), community="makers").error is None
    (refreshed,) = refresh_persons(con, HubConfig(path=tmp_path / "hub.yaml")).values()
    (people, bots) = con.execute("SELECT count(*) FILTER (NOT is_bot), count(*) FILTER (is_bot) FROM accounts").fetchone()
    assert refreshed.accounts == people and bots >= 1
    assert con.execute("SELECT count(*), count(DISTINCT account_id) FROM person_accounts").fetchone() == (people, people)
    handles = con.execute("""SELECT a.display_name, b.display_name FROM person_accounts x JOIN person_accounts y
                               ON x.person_id = y.person_id AND x.account_id < y.account_id
                             JOIN accounts a ON a.account_id = x.account_id JOIN accounts b ON b.account_id = y.account_id
                             WHERE x.method = 'handle'""").fetchall()
    assert handles and all(a == b for a, b in handles)  # merged accounts are the same member
    top = con.execute("SELECT count(*) FROM identity_suggestions WHERE confidence >= 0.9").fetchone()[0]
    assert top >= 20  # the members on Telegram and WhatsApp, proposed to the merged Slack+Discord persons


def test_the_decisions_file_keeps_what_the_reviewer_wrote(tmp_path: Path) -> None:
    """Comments in a file with no decision yet survive the first merge; `never_merge:` with nothing
    under it is an empty list; a split takes out every copy of the account from a hand-written
    group, so the file never both merges and separates the same pair."""
    path = tmp_path / "people.yaml"
    path.write_text("# Reviewed by Ana, June 2024\n# ask before merging bots\n", encoding="utf-8")
    record_merge(path, ["slack:makers:U1", "whatsapp:makers:Bob"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Reviewed by Ana, June 2024\n# ask before merging bots\n"), text
    assert load_identities(path).merge == [["slack:makers:U1", "whatsapp:makers:Bob"]]

    path.write_text("merge:\n  - [slack:makers:U3, whatsapp:makers:Bob, whatsapp:makers:Bob]\nnever_merge:\n",
                    encoding="utf-8")
    assert load_identities(path).never_merge == []
    record_split(path, "slack:makers:U3", "whatsapp:makers:Bob")
    decisions = load_identities(path)  # (a contradiction would raise ConfigError here)
    assert decisions.merge == [] and decisions.never_merge == [["slack:makers:U3", "whatsapp:makers:Bob"]]


def test_latin_letters_without_an_accent_mark_fold_like_accented_ones(con, tmp_path: Path) -> None:
    """NFKD takes the accent off é but leaves ł, ı, đ whole: typed on a phone without them, the
    name must still be proposed as the same."""
    add(con, account("slack", "U1", "Łukasz Wałęsa"), account("whatsapp", "Lukasz Walesa", "Lukasz Walesa"),
        account("slack", "U2", "Işık Yılmaz"), account("whatsapp", "Isik Yilmaz", "Isik Yilmaz"),
        account("slack", "U3", "Đorđe Petrović"), account("whatsapp", "Dorde Petrovic", "Dorde Petrovic"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    for a, b in (("U1", "Lukasz Walesa"), ("U2", "Isik Yilmaz"), ("U3", "Dorde Petrovic")):
        found = suggestion(con, f"slack:makers:{a}", f"whatsapp:makers:{b}")
        assert found is not None and found[0] >= 0.55, (a, b, found)


# -- from a review as a promoter meets it: handles that are only a first name, the name a merged
# person goes by, the decisions file's comments, splits of chained merges, an empty warehouse --

def test_a_handle_that_is_only_a_first_name_is_a_hint_not_a_merge(con, tmp_path: Path) -> None:
    """Slack usernames of small workspaces are first names: `maria` on Slack and on Telegram are two
    Marias as often as one. Only a first name of their full names matches: proposed below LOW,
    never merged."""
    add(con, account("slack", "U1", "Maria Lopez", handle="maria"),
        account("telegram", "user1", "Maria Schmidt", handle="@Maria"),
        # More than a name: still one person by its handle.
        account("slack", "U3", "Dmitri Koval", handle="dkoval"), account("discord", "3", "DK", handle="DKoval"),
        # ... also where a platform shows the handle as the name (Discord without a nickname).
        account("slack", "U4", "Alice Martin", handle="alicem"), account("discord", "4", "alicem", handle="alicem"))
    refresh_persons(con, load_config(write_config(tmp_path)))
    assert not together(con, "slack:makers:U1", "telegram:makers:user1")
    hint = suggestion(con, "slack:makers:U1", "telegram:makers:user1")
    assert hint is not None and hint[0] < LOW and "same handle @maria, which is only a name" in hint[1]
    assert together(con, "slack:makers:U3", "discord:makers:3")
    assert link(con, "discord:makers:3") == ("handle", 0.9)
    assert together(con, "slack:makers:U4", "discord:makers:4")


def test_a_merged_person_goes_by_a_name_rather_than_a_phone_number(con, tmp_path: Path) -> None:
    """WhatsApp shows an unknown contact by their number; the same person's Telegram name, even a
    first name only and older, says more than the number."""
    add(con, account("whatsapp", "+33 6 12 34 56 78", "+33 6 12 34 56 78", phone="+33612345678", seen=(1, 9)),
        account("telegram", "user1", "Ana", phone="+33 6 12 34 56 78", seen=(1, 3)),
        account("whatsapp", "+33 6 99 88 77 66", "+33 6 99 88 77 66", phone="+33699887766", seen=(1, 9)),
        account("discord", "1", "🌻", handle="bruno_d", phone="+33 6 99 88 77 66", seen=(1, 3)))
    refresh_persons(con, load_config(write_config(tmp_path)))
    names = dict(con.execute("""SELECT pa.account_id, p.display_name FROM persons p
                                JOIN person_accounts pa USING (person_id)""").fetchall())
    assert names["telegram:makers:user1"] == "Ana"
    assert names["discord:makers:1"] == "bruno_d"  # no name with a word: the handle


def test_the_decisions_file_keeps_each_comment_where_it_was(tmp_path: Path) -> None:
    """ruamel keeps the lines below a list's last item (a blank line, the comment heading the next
    key) with that item: a decision appended after it, or it deleted, must not carry them off."""
    path = tmp_path / "makers.identities.yaml"
    path.write_text("# Makers: reviewed by Ana\nmerge:\n  - [slack:makers:U1, whatsapp:makers:Bo]   # same phone\n"
                    "\n# Family: never the same person\nnever_merge:\n  - [slack:makers:U7, slack:makers:U8]\n",
                    encoding="utf-8")
    record_merge(path, ["slack:makers:U2", "whatsapp:makers:Cy"])
    assert path.read_text(encoding="utf-8") == (
        "# Makers: reviewed by Ana\nmerge:\n  - [slack:makers:U1, whatsapp:makers:Bo]   # same phone\n"
        "  - [slack:makers:U2, whatsapp:makers:Cy]\n"
        "\n# Family: never the same person\nnever_merge:\n  - [slack:makers:U7, slack:makers:U8]\n")
    record_split(path, "slack:makers:U2", "whatsapp:makers:Cy")  # the last merge goes, not the heading
    record_split(path, "slack:makers:U1", "whatsapp:makers:Bo")  # nor when the list is left empty
    assert path.read_text(encoding="utf-8") == (
        "# Makers: reviewed by Ana\nmerge: []\n"
        "\n# Family: never the same person\nnever_merge:\n  - [slack:makers:U7, slack:makers:U8]\n"
        "  - [slack:makers:U2, whatsapp:makers:Cy]\n  - [slack:makers:U1, whatsapp:makers:Bo]\n")

    # Comments after the last list of the file, emptied by a merge, stay at the end of the file.
    path.write_text("merge: []\nnever_merge:\n  - [slack:makers:U1, whatsapp:makers:Bo]   # wrong\n"
                    "\n# Ask Ana before editing\n", encoding="utf-8")
    record_merge(path, ["slack:makers:U1", "whatsapp:makers:Bo"])
    text = path.read_text(encoding="utf-8")
    assert text.endswith("never_merge: []\n\n# Ask Ana before editing\n"), text
    assert load_identities(path).merge == [["slack:makers:U1", "whatsapp:makers:Bo"]]


def test_a_decisions_file_written_with_block_lists_keeps_its_comments_too(tmp_path: Path) -> None:
    """Decisions written by hand as block lists (`- - a`): ruamel keeps the lines below one on its
    last account, which a merge appended after it, or a split taking that account out, carried off."""
    path = tmp_path / "makers.identities.yaml"
    path.write_text("merge:\n  - [slack:makers:U1, whatsapp:makers:Bo]\n  # about Cy\n  - - slack:makers:U2\n"
                    "    - whatsapp:makers:Cy\n\n# Family\nnever_merge: []\n", encoding="utf-8")
    record_merge(path, ["slack:makers:U3", "whatsapp:makers:Di"])
    text = path.read_text(encoding="utf-8")
    assert text.index("whatsapp:makers:Di") < text.index("# Family") < text.index("never_merge"), text
    record_split(path, "slack:makers:U2", "whatsapp:makers:Cy")
    record_split(path, "slack:makers:U3", "whatsapp:makers:Di")
    text = path.read_text(encoding="utf-8")
    assert "\n\n# Family\nnever_merge:" in text, text
    assert load_identities(path).merge == [["slack:makers:U1", "whatsapp:makers:Bo"]]


def test_a_split_undoes_a_chain_of_merges_that_joined_the_two(con, tmp_path: Path) -> None:
    """`merge A X` then `merge X B`: A and B are one person through X. `split A B` must leave no merge
    that the new never_merge then refuses at every recompute (a warning each build); B keeps its
    own merge with Y."""
    add(con, account("slack", "A", "Ann Lee"), account("discord", "X", "annie"), account("whatsapp", "B", "Bea Kim"),
        account("telegram", "Y", "bea"))
    config = load_config(write_config(tmp_path))
    path = config.identities_file("makers")
    record_merge(path, ["slack:makers:A", "discord:makers:X"])
    record_merge(path, ["discord:makers:X", "whatsapp:makers:B"])
    record_merge(path, ["whatsapp:makers:B", "telegram:makers:Y"])
    refresh_persons(con, config)
    assert together(con, "slack:makers:A", "whatsapp:makers:B")
    changes = record_split(path, "slack:makers:A", "whatsapp:makers:B")
    assert "removed merge [discord:makers:X, whatsapp:makers:B]" in changes
    (refreshed,) = refresh_persons(con, config).values()
    assert refreshed.warnings == []
    assert not together(con, "slack:makers:A", "whatsapp:makers:B")
    assert together(con, "slack:makers:A", "discord:makers:X")
    assert together(con, "whatsapp:makers:B", "telegram:makers:Y")


def test_persons_on_an_empty_warehouse_says_so(db_path: Path, tmp_path: Path) -> None:
    from warehouse.db import connect

    with connect(db_path):
        pass
    options = ["--db", str(db_path), "--config", str(write_config(tmp_path))]
    for command in ("suggest", "show"):
        result = runner.invoke(app, ["persons", command, *options])
        assert result.exit_code == 0 and "no accounts in the warehouse yet" in result.output, result.output


def test_a_decision_naming_an_account_by_another_case_or_accent_says_which_it_may_mean(con, tmp_path: Path) -> None:
    """A WhatsApp account id is a name, typed into the file by hand: `Ines` for `Inès` skips the
    decision; the warning names the file, line and key, and the account meant."""
    add(con, account("whatsapp", "Inès Dubois", "Inès Dubois"), account("slack", "U1", "Ines D"))
    path = tmp_path / "makers.identities.yaml"
    path.write_text("merge:\n  - [whatsapp:makers:ines dubois, slack:makers:U1]\n", encoding="utf-8")
    (refreshed,) = refresh_persons(con, load_config(write_config(tmp_path))).values()
    assert refreshed.warnings == [
        f"{path}:2: merge[0]: whatsapp:makers:ines dubois (did you mean whatsapp:makers:Inès Dubois?): "
        "no such account (or a bot): left out of this merge"]
