"""Identity resolution: which accounts, across platforms, are one person.

Accounts are one row per platform identity; a person has accounts on several platforms. Persons
are recomputed from the warehouse each time (nothing here is incremental), so the result depends
only on the accounts and on the community's reviewed decisions file:

1. **Reviewed decisions** (`merge`, `never_merge` in `<slug>.identities.yaml`) come first. A
   `never_merge` pair is never in one person, whatever joins them, directly or through others.
2. **Exact evidence merges**: the same e-mail (case-insensitive), the same phone number (E.164,
   whatever the formatting), the same handle on two platforms (a username is chosen by its
   owner, but two people can pick the same one on two platforms: a little less certain; a
   handle that is only a first name, `maria`, is not evidence, only a hint).
3. **Likely matches are only proposed** (`identity_suggestions`): similar full names on two
   platforms, more likely when their activity overlaps in time.

Edges are applied strongest first with a union-find that refuses any union bringing a
`never_merge` pair together; an exact edge refused that way is kept, with confidence 0 and the
reason, among the suggestions so that the override stays visible.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from anyascii import anyascii

from hub.config import HubConfig, IdentityDecisions, load_identities
from hub.identity import normalise_phone, region_of

# How sure each kind of evidence is that two accounts are one person.
CONFIDENCE = {"reviewed": 1.0, "single": 1.0, "email": 0.99, "phone": 0.99, "named": 0.95, "handle": 0.9}
_RANK = {"reviewed": 0, "email": 1, "phone": 2, "named": 3, "handle": 4}  # which method names an account's link

NAME_SIMILARITY = 0.85  # token-sorted names this similar (rapidfuzz's Indel ratio) are proposed
_WORD_SIMILARITY = 0.75  # ...and each word of one like a word of the other (dubois / duboys: 0.83)
LOW = 0.25  # a suggestion below this is a hint, not a likely match: a first name alone stays below it
MIN_SUGGESTED = 0.1  # less likely matches are not kept at all
_PREFIX = 4  # names are compared when a word of each starts with the same 4 letters
_BLOCK_LIMIT = 2000  # a word start shared by more names than this is too common to block on


@dataclass(frozen=True)
class Account:
    account_id: str
    platform: str
    display_name: str | None = None
    handle: str | None = None
    email: str | None = None
    phone: str | None = None
    first_seen_at: object = None  # datetimes; only compared with each other
    last_seen_at: object = None


@dataclass(frozen=True)
class Edge:
    a: str
    b: str
    method: str
    confidence: float
    reason: str


@dataclass
class Resolution:
    """One community's persons, their accounts, and the matches proposed but not merged."""

    community: str
    persons: list[tuple[str, str]] = field(default_factory=list)  # person_id, display_name
    person_accounts: list[tuple[str, str, str, float]] = field(default_factory=list)  # person_id, account_id, method, confidence
    suggestions: list[tuple[str, str, float, str]] = field(default_factory=list)  # account_id, other_account_id, confidence, reason
    warnings: list[str] = field(default_factory=list)

    def person_of(self, account_id: str) -> str | None:
        return next((p for p, a, _, _ in self.person_accounts if a == account_id), None)


# -- normalisation -----------------------------------------------------------------------------

def normalise_email(email: str | None) -> str | None:
    email = (email or "").strip().removeprefix("mailto:").casefold()
    return email if "@" in email else None


def normalise_handle(handle: str | None) -> str | None:
    return (handle or "").strip().lstrip("@").casefold() or None


@functools.lru_cache(maxsize=4096)
def _latin(ch: str) -> str:
    """A Latin letter NFKD leaves whole (ł, ı, đ, ø, ß, æ) as ASCII letters, like the accented
    ones; other scripts stay as they are (a transliteration would make homophones one name)."""
    if ch.isascii() or not ch.isalpha() or "LATIN" not in unicodedata.name(ch, ""):
        return ch
    return anyascii(ch) or ch


@functools.lru_cache(maxsize=1 << 16)
def name_tokens(name: str | None) -> tuple[str, ...]:
    """A display name as comparable words: accents stripped, case folded, punctuation and emoji
    dropped, initials (one letter) and words without a letter (`+33…`, `2`) left out."""
    if not name:
        return ()
    words = re.sub(r"[^\w]|_", " ", _folded(name)).split()
    return tuple(w for w in words if len(w) >= 2 and any(ch.isalpha() for ch in w))


def _folded(text: str) -> str:
    """Accents stripped (Latin letters without one too, `_latin`), case folded."""
    if text.isascii():  # nothing to decompose or strip: most names, at a tenth of the cost
        return text.casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(_latin(ch) for ch in decomposed if not unicodedata.combining(ch)).casefold()


# -- resolution --------------------------------------------------------------------------------

def resolve(community: str, accounts: Sequence[Account], decisions: IdentityDecisions | None = None,
            region: str | None = None) -> Resolution:
    """Group a community's (non-bot) accounts into persons and propose likely matches."""
    decisions = decisions or IdentityDecisions()
    result = Resolution(community)
    by_id = {a.account_id: a for a in accounts}
    never: dict[str, set[str]] = defaultdict(set)
    folds: dict[str, str] = {}  # (for ids in the decisions that are not accounts)
    for i, (a, b) in enumerate(decisions.never_merge):
        if a in by_id and b in by_id:
            never[a].add(b)
            never[b].add(a)
        else:
            result.warnings.append(f"{decisions.where('never_merge', i)}: ignored: "
                                   f"{_missing([a, b], by_id, folds)}: no such account (or a bot) in {community}")

    edges = list(_reviewed_edges(decisions, by_id, never, result.warnings, folds))
    edges += sorted(_exact_edges(accounts, never, region), key=lambda e: (_RANK[e.method], e.a, e.b))

    groups = _Groups(by_id, never)
    accepted: list[Edge] = []
    kept_apart: dict[tuple[str, str], tuple[float, str]] = {}
    for edge in edges:
        blocker = groups.union(edge.a, edge.b)
        if blocker is None:
            accepted.append(edge)
            continue
        why = f"never_merge [{blocker[0]}, {blocker[1]}] in {decisions.path}"
        if edge.method == "reviewed":
            result.warnings.append(f"{edge.reason}: not applied, it would join {blocker[0]} and {blocker[1]} ({why})")
        else:
            key = (min(edge.a, edge.b), max(edge.a, edge.b))
            kept_apart.setdefault(key, (0.0, f"{edge.reason}; kept apart by {why}"))

    # Each account's method is its strongest link to the rest of its person.
    best: dict[str, Edge] = {}
    for edge in accepted:
        for account in (edge.a, edge.b):
            if account not in best or (_RANK[edge.method], -edge.confidence) < (_RANK[best[account].method], -best[account].confidence):
                best[account] = edge
    for members in sorted(groups.components(), key=min):
        person = person_id(community, min(members))
        result.persons.append((person, _person_name([by_id[m] for m in members])))
        for m in sorted(members):
            if len(members) == 1:
                result.person_accounts.append((person, m, "single", CONFIDENCE["single"]))
            else:
                result.person_accounts.append((person, m, best[m].method, best[m].confidence))

    suggested = _name_suggestions(accounts, groups) | kept_apart
    result.suggestions = [(a, b, round(c, 3), r) for (a, b), (c, r) in sorted(suggested.items())]
    return result


def person_id(community: str, smallest_account_id: str) -> str:
    """A person's id, from its smallest account id: recomputing gives the same ids, and a person
    keeps its id as long as that account stays in it."""
    return f"person:{community}:{hashlib.sha256(smallest_account_id.encode()).hexdigest()[:12]}"


def _person_name(accounts: list[Account]) -> str:
    # The most recent full name says most; then any name, a handle, a phone number, the id.
    if len(accounts) == 1:
        (first,) = accounts
        return first.display_name or first.handle or first.phone or first.account_id

    # A display name without a word (WhatsApp shows an unknown contact's number, `+33 6 12 34 56
    # 78`) is no name: "Ana" or a handle says more.
    def key(a: Account):
        words = len(name_tokens(a.display_name))
        return (words < 2, words == 0, a.last_seen_at is None,
                -(a.last_seen_at.timestamp()) if a.last_seen_at else 0, a.account_id)
    ranked = sorted(accounts, key=key)
    first = ranked[0]
    if name_tokens(first.display_name):
        return first.display_name
    handle = next((a.handle for a in ranked if a.handle), None)
    return handle or first.display_name or first.phone or first.account_id


class _Groups:
    """Union-find whose unions never put a never_merge pair into one group."""

    def __init__(self, ids: Iterable[str], never: dict[str, set[str]]) -> None:
        self.parent = {i: i for i in ids}
        self.members = {i: [i] for i in self.parent}
        self.never = never  # account -> accounts it must stay apart from
        self.apart = {i: set(never.get(i, ())) for i in self.parent}  # root -> all its members' never partners

    def find(self, x: str) -> str:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> tuple[str, str] | None:
        """Join a's and b's groups; if that is forbidden, the never_merge pair it would join."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        for other in self.apart[ra]:
            if self.find(other) == rb:
                mine = next(m for m in self.members[ra] if other in self.never.get(m, ()))
                return (mine, other)
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra] += self.members.pop(rb)
        self.apart[ra] |= self.apart.pop(rb)
        return None

    def same(self, a: str, b: str) -> bool:
        return self.find(a) == self.find(b)

    def forbidden(self, a: str, b: str) -> bool:
        rb = self.find(b)
        return any(self.find(x) == rb for x in self.apart[self.find(a)])

    def components(self) -> list[list[str]]:
        return list(self.members.values())


def _pairs(group: list[str], never: dict[str, set[str]]) -> Iterable[tuple[str, str]]:
    """Edges that connect a group: a star is enough, unless the community has a never_merge, in
    which case every pair, so that the rest still join when one link is refused (a member's own
    never_merge, or one of an account another decision joined it to)."""
    if never:
        return itertools.combinations(group, 2)
    return ((group[0], m) for m in group[1:])


def _reviewed_edges(decisions: IdentityDecisions, by_id: dict[str, Account], never: dict[str, set[str]],
                    warnings: list[str], folds: dict[str, str]) -> Iterable[Edge]:
    for i, group in enumerate(decisions.merge):
        known = list(dict.fromkeys(a for a in group if a in by_id))
        missing = [a for a in group if a not in by_id]
        if missing:
            warnings.append(f"{decisions.where('merge', i)}: {_missing(missing, by_id, folds)}: no such account "
                            "(or a bot): left out of this merge")
        for a, b in _pairs(known, never):
            yield Edge(a, b, "reviewed", CONFIDENCE["reviewed"], f"merged by {decisions.where('merge', i)}")


def _missing(ids: Sequence[str], by_id: dict[str, Account], folds: dict[str, str]) -> str:
    """The ids not in by_id, each with the account it differs from only by case or accents (a
    WhatsApp id is a name, typed by hand into the file: `whatsapp:makers:ines dubois`). `folds`
    is filled on the first call of a resolution, and reused."""
    if not folds:
        folds.update((_folded(k), k) for k in sorted(by_id, reverse=True))
    missing = [i for i in dict.fromkeys(ids) if i not in by_id]
    return ", ".join(f"{i} (did you mean {folds[_folded(i)]}?)" if _folded(i) in folds else i for i in missing)


def _exact_edges(accounts: Sequence[Account], never: dict[str, set[str]], region: str | None) -> Iterable[Edge]:
    by_email: dict[str, list[str]] = defaultdict(list)
    by_phone: dict[str, list[str]] = defaultdict(list)
    for a in sorted(accounts, key=lambda a: a.account_id):
        if email := normalise_email(a.email):
            by_email[email].append(a.account_id)
        if phone := normalise_phone(a.phone, region):
            by_phone[phone].append(a.account_id)
    for method, groups, label in (("email", by_email, "same e-mail"), ("phone", by_phone, "same phone")):
        for value, ids in groups.items():
            for a, b in _pairs(ids, never):
                yield Edge(a, b, method, CONFIDENCE[method], f"{label} {value}")
    yield from _named_edges(accounts, never)
    for handle, holders in _shared_handles(accounts).items():
        if not _only_a_name(handle, holders):
            for a, b in _pairs([h.account_id for h in holders], never):
                yield Edge(a, b, "handle", CONFIDENCE["handle"], f"same handle @{handle}")


def _shared_handles(accounts: Sequence[Account]) -> dict[str, list[Account]]:
    """Handles held on two platforms or more: handle -> its one account on each platform."""
    by_handle: dict[str, list[Account]] = defaultdict(list)
    for a in sorted(accounts, key=lambda a: a.account_id):
        if handle := normalise_handle(a.handle):
            by_handle[handle].append(a)
    shared = {}
    for handle, holders in by_handle.items():
        platforms = defaultdict(list)
        for a in holders:
            platforms[a.platform].append(a)
        # A username is unique on its platform. Two accounts of one platform with it (two
        # workspaces of one community) leave it unclear which of them is the other platforms' one.
        if len(platforms) >= 2 and all(len(held) == 1 for held in platforms.values()):
            shared[handle] = [held[0] for held in platforms.values()]
    return shared


def _only_a_name(handle: str, holders: list[Account]) -> bool:
    """A handle that is one word of a holder's full name (`maria` for Maria Lopez and Maria
    Schmidt): a first name (or a surname) alone, which two people on two platforms may both pick;
    it is proposed, not merged. `dkoval` is more than a name, and so is a handle a platform shows as
    the name itself (Discord's and Slack's display name falls back on it: `dkoval` and Dmitri Koval)."""
    words = name_tokens(handle)
    return len(words) == 1 and any(len(name := name_tokens(a.display_name)) >= 2 and words[0] in name
                                   for a in holders)


def _named_edges(accounts: Sequence[Account], never: dict[str, set[str]]) -> Iterable[Edge]:
    """An account an export knew only by its name (`…:name:Luis Kaur`: a Telegram member an older
    export lists as invited, a Facebook author without an id) is the one account of its platform
    with an id that goes by that very name. With two such accounts it could be either: left alone."""
    named_only, with_id = [], defaultdict(list)
    for a in sorted(accounts, key=lambda a: a.account_id):
        if a.account_id.split(":", 2)[-1].startswith("name:"):
            named_only.append(a)
        elif a.display_name:
            with_id[(a.platform, a.display_name)].append(a.account_id)
    for a in named_only:
        holders = with_id.get((a.platform, a.display_name), [])
        if len(holders) == 1 and holders[0] not in never.get(a.account_id, ()):
            yield Edge(a.account_id, holders[0], "named", CONFIDENCE["named"],
                       f"known only by the name {a.display_name}, which {holders[0]} goes by")


def _name_suggestions(accounts: Sequence[Account], groups: _Groups) -> dict[tuple[str, str], tuple[float, str]]:
    """Similar names on two platforms, compared within blocks of names sharing a word start
    (never all pairs).

    - Full names (two words or more, initials aside) are compared token-sorted with rapidfuzz.
      At NAME_SIMILARITY or above the confidence is 0.55 to 0.85 with the similarity, +0.1 when
      the two accounts were active at the same time, -0.1 when their activity is a year apart.
    - Namesakes make a match less likely: when n persons on one platform go by the name, each
      pair gets 1/n of that (two "Maria Garcia" on Slack: either may be WhatsApp's). Pairs that
      end below MIN_SUGGESTED are not kept.
    - Two persons are proposed once, by their most likely pair of accounts.
    - A name of one word is a first name: it never matches a full name ("Alex" is not "Alex
      Chen"), and matches the same single word only when exactly two persons of the community,
      on two platforms, go by it, at 0.15 (0.2 with overlapping activity): below LOW.
    - A handle on two platforms that is only a word of its holders' names (`maria`) is such a
      hint too, at the same confidence; other shared handles are merged (_exact_edges).
    """
    from rapidfuzz import process
    from rapidfuzz.distance import Indel

    # Normalised name -> platform -> accounts; names are compared once, however many hold them.
    full: dict[str, dict[str, list[Account]]] = defaultdict(lambda: defaultdict(list))
    single: dict[str, list[Account]] = defaultdict(list)
    for a in accounts:
        tokens = name_tokens(a.display_name)
        if len(tokens) >= 2:
            full[" ".join(sorted(tokens))][a.platform].append(a)
        elif len(tokens) == 1:
            single[tokens[0]].append(a)
    names = sorted(full)
    # Blocks: names sharing the first letters of a word (Dubois and Duboys share "dubo").
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, name in enumerate(names):
        for prefix in {token[:_PREFIX] for token in name.split()}:
            blocks[prefix].append(i)
    similar: dict[tuple[int, int], float] = {(i, i): 1.0 for i in range(len(names))}
    for members in blocks.values():
        if len(members) < 2 or len(members) > _BLOCK_LIMIT:
            continue
        block = [names[i] for i in members]
        scores = process.cdist(block, block, scorer=Indel.normalized_similarity, score_cutoff=NAME_SIMILARITY)
        for x, y in zip(*scores.nonzero()):
            if x < y:
                similar[(members[x], members[y])] = float(scores[x, y])

    found: dict[tuple[str, str], tuple[float, str, tuple[str, str]]] = {}  # persons -> best match

    def persons(holders: list[Account]) -> int:
        return len({groups.find(a.account_id) for a in holders})

    for (i, j), similarity in similar.items():
        if i != j and not _every_word_answered(names[i], names[j]):
            continue  # "Christopher Li" and "Christopher Wu": alike only by a long first name
        left, right = full[names[i]], full[names[j]]
        what = "same name" if i == j else f"similar names ({similarity:.0%})"
        base = 0.55 + 0.3 * (similarity - NAME_SIMILARITY) / (1 - NAME_SIMILARITY)
        for p, q in itertools.product(left, right):
            if p == q or (i == j and p > q):
                continue
            namesakes = max(persons(left[p]), persons(right[q]))
            if (base + 0.1) / namesakes < MIN_SUGGESTED:
                continue
            crowd = f"; {namesakes} persons on {p if persons(left[p]) == namesakes else q} go by that name" \
                if namesakes > 1 else ""
            for a, b in itertools.product(left[p], right[q]):
                shift, when = _activity(a, b)
                _propose(found, groups, a, b, (base + shift) / namesakes,
                         f"{what}: {a.display_name!r} on {a.platform}, {b.display_name!r} on {b.platform}{when}{crowd}")
    for holders in single.values():
        if persons(holders) == 2:  # (two persons, one of whom may hold the name on two platforms)
            first = groups.find(holders[0].account_id)
            mine = [h for h in holders if groups.find(h.account_id) == first]
            theirs = [h for h in holders if groups.find(h.account_id) != first]
            pair = next(((x, y) for x in mine for y in theirs if x.platform != y.platform), None)
            if pair is None:
                continue
            a, b = pair
            shift, when = _activity(a, b)
            _propose(found, groups, a, b, 0.15 + min(shift, 0.05),
                     f"first name only: {a.display_name!r} on {a.platform}, {b.display_name!r} on {b.platform}{when}")
    for handle, holders in _shared_handles(accounts).items():
        if _only_a_name(handle, holders):  # (not merged by _exact_edges: a hint like a first name)
            for a, b in itertools.combinations(holders, 2):
                shift, when = _activity(a, b)
                _propose(found, groups, a, b, 0.15 + min(shift, 0.05),
                         f"same handle @{handle}, which is only a name: {a.display_name!r} on {a.platform}, "
                         f"{b.display_name!r} on {b.platform}{when}")
    return {accounts: (confidence, reason) for confidence, reason, accounts in found.values()}


def _every_word_answered(left: str, right: str) -> bool:
    """Each word of the shorter name has a like word in the other (`dubois` / `duboys`, a word
    and its initial aside): two names alike only by one long word are not."""
    from rapidfuzz.distance import Indel

    short, long = sorted((left.split(), right.split()), key=len)
    return all(any(Indel.normalized_similarity(w, v) >= _WORD_SIMILARITY for v in long) for w in short)


def _propose(found: dict, groups: _Groups, a: Account, b: Account, confidence: float, reason: str) -> None:
    """Keep a's and b's match, unless it is no news (one person already), forbidden or unlikely.
    Two persons are proposed once, by their most likely pair of accounts."""
    if a.platform == b.platform or confidence < MIN_SUGGESTED or groups.same(a.account_id, b.account_id) \
            or groups.forbidden(a.account_id, b.account_id):
        return
    pair = tuple(sorted((groups.find(a.account_id), groups.find(b.account_id))))
    accounts = (min(a.account_id, b.account_id), max(a.account_id, b.account_id))
    candidate = (max(0.0, min(1.0, confidence)), reason, accounts)
    if pair not in found or (-candidate[0], candidate[2]) < (-found[pair][0], found[pair][2]):
        found[pair] = candidate


def _activity(a: Account, b: Account) -> tuple[float, str]:
    """How the two accounts' activity spans relate: (confidence shift, words for the reason)."""
    if None in (a.first_seen_at, a.last_seen_at, b.first_seen_at, b.last_seen_at):
        return 0.0, ""
    gap = max(a.first_seen_at, b.first_seen_at) - min(a.last_seen_at, b.last_seen_at)
    if gap.total_seconds() <= 0:
        return 0.1, "; active at the same time"
    if gap.days > 365:
        return -0.1, f"; active {gap.days} days apart"
    return 0.0, f"; active {gap.days} days apart"


# -- the warehouse -----------------------------------------------------------------------------

@dataclass
class Refreshed:
    community: str
    accounts: int
    persons: int
    merged: int  # persons with more than one account
    suggestions: int  # proposed matches (confidence > 0)
    kept_apart: int  # exact matches a never_merge overrode
    warnings: list[str]


def refresh_persons(con: duckdb.DuckDBPyConnection, config: HubConfig,
                    communities: Iterable[str] | None = None) -> dict[str, Refreshed]:
    """Recompute persons, person_accounts and identity_suggestions of these communities (default:
    every community with accounts) from the warehouse and each community's decisions file, and
    replace their rows in one transaction. Raises ConfigError for a bad decisions file."""
    from warehouse import persons as sql

    wanted = sorted(set(communities)) if communities is not None else sql.communities(con)
    zones = sql.timezones(con)
    configured = {c.slug: c for c in config.communities}
    results: dict[str, Resolution] = {}
    for community in wanted:
        decisions = load_identities(config.identities_file(community))
        timezone = configured[community].timezone if community in configured else zones.get(community)
        accounts = [Account(*row) for row in sql.accounts(con, community)]
        results[community] = resolve(community, accounts, decisions, region_of(timezone))
    sql.replace(con, {c: (r.persons, r.person_accounts, r.suggestions) for c, r in results.items()})
    return {c: Refreshed(c, len(r.person_accounts), len(r.persons),
                         sum(1 for p in _sizes(r).values() if p > 1),
                         sum(1 for s in r.suggestions if s[2] > 0), sum(1 for s in r.suggestions if s[2] == 0),
                         r.warnings)
            for c, r in results.items()}


def _sizes(r: Resolution) -> dict[str, int]:
    sizes: dict[str, int] = defaultdict(int)
    for person, *_ in r.person_accounts:
        sizes[person] += 1
    return sizes


# -- the decisions file ------------------------------------------------------------------------

_HEADER = """\
Reviewed identity decisions (hub persons merge / split write here; edit by hand as well).
merge: accounts that are one person. never_merge: two accounts that are never one person.
"""


def _read_document(path: Path):
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096  # one decision, one line: long account ids are not folded
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    document = yaml.load(text) if text else None
    if document is None:  # no file yet, or only comments: those are kept above the decisions
        document = CommentedMap()
        kept = [line.strip()[1:].removeprefix(" ") for line in text.splitlines() if line.strip().startswith("#")]
        document.yaml_set_start_comment("\n".join(kept) if kept else _HEADER)
    for key in ("merge", "never_merge"):
        if document.get(key) is None:
            document[key] = CommentedSeq()
    return yaml, document


def _flow(ids: Iterable[str]):
    from ruamel.yaml.comments import CommentedSeq

    seq = CommentedSeq(ids)
    seq.fa.set_flow_style()
    return seq


# ruamel keeps the comment lines below a list item (a blank line and `# Kept apart`, heading the
# next key) with the item's end-of-line comment: appending after that item, or deleting it, would
# put them between two decisions or drop them. These move them to stay where they were.

def _slot_below(seq, index: int, create: bool = False) -> list | None:
    """The comment slot after item `index`: its own, or its last element's for a block list."""
    from ruamel.yaml.comments import CommentedSeq

    item = seq[index]
    own = seq.ca.items.get(index)  # (may hold only a comment above the item: the lines below are not there)
    if (own is None or own[0] is None) and isinstance(item, CommentedSeq) and len(item) \
            and not item.fa.flow_style():
        return _slot_below(item, len(item) - 1, create)
    if create:
        seq.ca.items.setdefault(index, [None, None, None, None])
    return seq.ca.items.get(index)


def _take_lines_below(seq, index: int) -> str:
    """Take away the lines below item `index` (its end-of-line comment stays)."""
    slot = _slot_below(seq, index)
    if not slot or slot[0] is None:
        return ""
    head, _, below = slot[0].value.partition("\n")
    if head.strip():
        slot[0].value = head + "\n"
    else:
        slot[0] = None
    return below


def _put_lines_below(seq, index: int, lines: str) -> None:
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not lines:
        return
    slot = _slot_below(seq, index, create=True)
    if slot[0] is None:
        slot[0] = CommentToken("\n" + lines, CommentMark(0), None)  # (an empty end-of-line comment first)
    else:
        slot[0].value += lines


def _append(document, key: str, item) -> None:
    seq = document[key]
    lines = _take_lines_below(seq, len(seq) - 1) if len(seq) else ""
    seq.append(item)
    _put_lines_below(seq, len(seq) - 1, lines)


def _delete(document, key: str, index: int, lines: str = "") -> str:
    """Delete a decision (and `lines`, taken from below it before); returns the comment lines that
    can only go at the end of the file."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    seq = document[key]
    lines += _take_lines_below(seq, index)
    del seq[index]
    if not len(seq):  # written `[]`, which drops the lines kept after its last item
        lines += "".join(token.value for token in seq.ca.end or ())
        seq.ca.end = []
    if not lines:
        return ""
    keys = list(document)
    if index > 0:
        _put_lines_below(seq, index - 1, lines)
    elif len(seq) or key != keys[-1]:  # above what is now the first item, or the next key
        slot = seq.ca.items.setdefault(0, [None, None, None, None]) if len(seq) else \
            document.ca.items.setdefault(keys[keys.index(key) + 1], [None, None, None, None])
        slot[1] = [CommentToken(lines, CommentMark(0), None), *(slot[1] or [])]
    else:
        return lines
    return ""


def _write_document(path: Path, yaml, document, trailer: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as f:
        yaml.dump(document, f)
        f.write(trailer)  # (comments after a list emptied at the end of the file)
    temporary.replace(path)  # a crash never leaves half a file of decisions


def record_merge(path: Path, accounts: Sequence[str]) -> list[str]:
    """Add a merge decision for these accounts, and drop never_merge pairs among them. Returns
    what changed, in words (nothing when the file already merges them)."""
    load_identities(path)  # refuse to rewrite a file that does not validate
    accounts = list(dict.fromkeys(accounts))
    yaml, document = _read_document(path)
    changes, trailer = [], ""
    wanted = set(accounts)
    for i in reversed(range(len(document["never_merge"]))):
        pair = list(document["never_merge"][i])
        if set(pair) <= wanted:
            trailer += _delete(document, "never_merge", i)
            changes.append(f"removed never_merge [{pair[0]}, {pair[1]}]")
    if not _joined([list(g) for g in document["merge"]], accounts):
        _append(document, "merge", _flow(accounts))
        changes.append(f"added merge [{', '.join(accounts)}]")
    if changes:
        _write_document(path, yaml, document, trailer)
    return changes


def record_split(path: Path, a: str, b: str) -> list[str]:
    """Keep two accounts apart: every merge decision that joins them (holding both, or chained to
    a's by other accounts: [a, x] and [x, b]) loses the second one, and the pair becomes a
    never_merge. Returns what changed, in words."""
    load_identities(path)
    yaml, document = _read_document(path)
    changes, trailer = [], ""
    # A merge left joining them through a chain would be refused by the never_merge at every
    # recompute, with a warning, for a decision the reviewer has just taken.
    for i in sorted(_chained([list(g) for g in document["merge"]], a, b), reverse=True):
        group = document["merge"][i]
        if b in group:
            before = ", ".join(group)
            lines = _take_lines_below(document["merge"], i)  # (a block list keeps them on its last item)
            while b in group:  # (a hand-written group may hold it twice)
                group.remove(b)
            if len(set(group)) < 2:
                trailer += _delete(document, "merge", i, lines)
                changes.append(f"removed merge [{before}]")
            else:
                _put_lines_below(document["merge"], i, lines)
                changes.append(f"removed {b} from merge [{before}]")
    if not any(set(pair) == {a, b} for pair in document["never_merge"]):
        _append(document, "never_merge", _flow([a, b]))
        changes.append(f"added never_merge [{a}, {b}]")
    if changes:
        _write_document(path, yaml, document, trailer)
    return changes


def _chained(groups: list[list[str]], a: str, b: str) -> set[int]:
    """The merge groups that join a to b: the ones holding a, and those sharing an account other
    than b with one of them (a group joined to a's only by b is b's own business: [b, y])."""
    reached, accounts, grew = set(), {a}, True
    while grew:
        grew = False
        for i, group in enumerate(groups):
            if i not in reached and accounts & set(group):
                reached.add(i)
                accounts |= set(group) - {b}
                grew = True
    return reached


def _joined(groups: list[list[str]], accounts: Sequence[str]) -> bool:
    """Whether these merge groups already join all the accounts (directly or in a chain)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for group in groups:
        for other in group[1:]:
            parent[find(other)] = find(group[0])
    return len({find(x) for x in accounts}) == 1
