"""Whether a keyword match is about the writer now (see cbt_infer.safety.keyword_signals).

A match is *distanced*, and its signal possible-only, in four contexts:

- other: about someone else. The person the match starts with, or else the last person named
  before it in its sentence, is a third person ("my sister ... an overdose", "she's been
  cutting again"), and the match names no first person and is not followed by "me". "Nobody",
  "everyone" and the like name no one in particular; a "my" after a preposition ("a student in
  my class") is not the subject. A suicide or an overdose reported as an event ("went to a
  suicide", "died by suicide", "three overdoses") is someone else's too. SELF_SIGNALS are about
  the writer by their wording (what others will do without them, their own arrangements).
- topic: suicide, overdose or self-harm as a subject of work or art ("an essay on suicide",
  "suicide-prevention training", "a suicide scene").
- past: the clause dates it ("years ago", "when I was 15", "the anniversary of") and the
  sentence does not bring it to now ("again", "still", "lately", "urges").
- everyday: an injury or medicine signal (EVERYDAY_SIGNALS) in a sentence about cooking, DIY,
  sport, an accident or medical advice, with no purpose, quantity, urge or cover story
  ("I cut myself chopping onions", "the pharmacist said not to mix sleeping pills and alcohol").

The writer's own plan or copying (crisis_patterns.PLAN, COPYING) overrides all four.
"""

from __future__ import annotations

import re

# The suffix a distanced signal's name carries; such names are possible-only.
SUFFIXES: dict[str, str] = {"other": " (someone else)", "topic": " (as a topic)",
                            "past": " (in the past)", "everyday": " (everyday injury or medicine)"}

_PREP = "".join(rf"(?<!\b{p}\s)" for p in ("in", "at", "of", "on", "to")) + \
    "".join(rf"(?<!{p}\s)" for p in ("from", "with", "for"))
PERSON = re.compile(
    rf"(?P<first>\b(?:i|me|myself|we|us|ourselves)\b|{_PREP}\b(?:my|our)\b)"
    r"|(?P<anyone>\b(?:no\s*one|nobody|noone|everyone|everybody|anyone|anybody)\b)"
    r"|(?P<third>\b(?:he|she|they|him|her|them|his|hers|their|himself|herself|themselves|"
    r"someone|somebody|people|person|man|woman|boy|girl|guy|lad|teenager|teen|kid|kids|child|"
    r"children|son|daughter|mum|mom|mother|dad|father|parents?|brother|sister|sibling|twin|"
    r"cousin|aunt|auntie|uncle|nan|nana|gran|granny|grandma|grandmother|grandad|granddad|"
    r"grandpa|grandfather|grandparents?|niece|nephew|wife|husband|partner|boyfriend|girlfriend|"
    r"ex|fianc\w*|friends?|mates?|bestie|flatmate|roommate|housemate|neighbou?r|colleague|"
    r"co-?worker|boss|manager|teacher|student|pupil|classmate|patients?|clients?|customers?|"
    r"caller|celebrity|singer|actor|stranger)\b)")
FIRST_PERSON = re.compile(r"\b(?:i|me|my|mine|myself|we|us|our|ourselves)\b")
ME_NEXT = re.compile(r"\s+(?:me|myself)\b")
SELF_SIGNALS = frozenset({"fine without me", "preparation"})

NOUN_SIGNALS = frozenset({"suicide", "overdose", "self-harm"})
# Before a noun signal, whoever the subject: an event that happened to someone else.
EVENT = re.compile(
    r"\b(?:witness\w*|saw|seen|attend\w*|(?:called|went|responded|sent)\s+(?:out\s+)?to|"
    r"news\s+of)\s+(?:a|an|the|another)\s+$|\b(?:died|dies|death|deaths)\s+(?:by|from|of|was|"
    r"were)\s+(?:a\s+)?$|\blost\s+(?:\w+\s+){1,2}to\s+$|\bcommitted\s+$|\banother\s+$")
# Before a noun signal with no person named before it, or a plural: an event.
EVENT_UNNAMED = re.compile(r"\b(?:there\s+(?:was|were|is|has\s+been|had\s+been|'s\s+been)|"
                           r"after|following)\s+(?:a|an|the)\s+$")
PLURAL = re.compile(r"(?:suicides|overdoses)")
TOPIC_BEFORE = re.compile(
    r"\b(?:essay|article|documentary|film|movie|book|novel|lecture|talk|podcast|study|research|"
    r"coursework|module|paper|report|series|episode|programme|program|show|training|course|"
    r"campaign|charity|statistics|story|play|song|poem|scene|storyline|plot)s?\s+(?:on|about|of|"
    r"into|around|involving)\s+(?:\w+\s+){0,2}$")
TOPIC_AFTER = re.compile(r"[-\s]+(?:prevention|awareness|research|statistics|stats|rates?|"
                         r"figures|training|scenes?|story|stories|storyline|documentary|film|"
                         r"novel|book|series|episode|plot)\b")

PAST = re.compile(
    r"\b(?:(?:\d+|a|one|two|three|four|five|six|seven|eight|nine|ten|twenty|a\s+few|several|"
    r"many|some)\s+)?(?:years?|decades?)\s+(?:ago|since|back|before)\b|\banniversary\b"
    r"|\bwhen\s+(?:i|he|she|we|they)\s+(?:was|were)\s+(?:\d+|a\s+(?:kid|child|teenager|teen|"
    r"student|baby)|kids|young|little|small|at\s+(?:school|uni)|in\s+(?:school|year|college|uni))"
    r"|\bas\s+a\s+(?:teenager|teen|kid|child|student)\b|\bin\s+my\s+(?:teens|twenties)\b"
    r"|\bback\s+(?:in|at|when)\b|\bin\s+(?:19|20)\d\d\b|\blast\s+year\b"
    r"|(?<!am\s)(?<!'m\s)(?<!get\s)(?<!got\s)\bused\s+to\b|\byears\s+(?:clean|free|since)\b"
    r"|\b(?:stopped|quit|gave\s+up)\s+(?:\w+\s+)?(?:self[-\s]?harm\w*|cutting|hurting\s+myself)")
STILL = re.compile(r"\b(?:again|relaps\w*|still|lately|recently|these\s+days|any\s*more|"
                   r"right\s+now|back\s+to|urges?|tempt\w*|miss\s+(?:it|doing)|"
                   r"every\s+(?:day|night|week))\b")

EVERYDAY_SIGNALS = frozenset({"self-harm", "act on own body", "hitting myself", "bleeding",
                              "pills", "pills and alcohol"})
EVERYDAY = re.compile(
    r"\b(?:chopp\w*|slic(?:e|ed|ing)\s+(?:\w+\s+){0,2}(?:onions?|carrots?|bread|veg\w*|tomato\w*|"
    r"potato\w*|peppers?|lemons?|meat|cheese|bagels?)|dic(?:e|ed|ing)|peel\w*|grat(?:ed|ing|er)|"
    r"onions?|kitchen|cook(?:ing|ed)|bak(?:e|ed|ing)|mandoline|knife\s+slipped|slipped(?!\s+up)|"
    r"dropp\w*|by\s+accident|accident(?:al|ally)?|paper\s+cut|shav(?:e|ed|ing)|stanley\s+knife|"
    r"box\s+cutter|hammer|chisel|drill\w*|diy|shel(?:f|ves)|garden\w*|pruning|hedge\s+trimmer|"
    r"lawn\s*mower|oven|hob|stove|kettle|steam\s+wand|pan|tray|grill|glue\s+gun|tripped|"
    r"climbing|football|rugby|hockey|skateboard\w*|cupboard|pharmacist|pharmacy|chemist|"
    r"prescri\w*|gp|doctor|dr|consultant|surgeon|surgery|nurse|dentist|vet|label|leaflet|"
    r"side[-\s]effects?|dos(?:e|es|age|ing)|interact\w*|warn\w*|advice|advised|antibiotics|"
    r"safe\s+to|(?:ok|okay|alright|fine)\s+to\s+(?:mix|drink|take|have)|"
    r"for\s+(?:my\s+|a\s+|the\s+)?(?:headache|migraine|back|knee|period|tooth\w*|cold|flu|fever|"
    r"hangover|cramps?|pain))\b")
PURPOSE = re.compile(
    r"\b(?:on\s+purpose|deliberate\w*|intentional\w*|meant\s+to|again|relaps\w*|"
    r"want\w*\s+to\s+(?:die|hurt|cut|take|end|feel|bleed|punish|disappear|sleep|not)|wanna|"
    r"(?:going\s+to|gonna|plan\w*\s+to)\s+(?:take|swallow|cut|hurt|do|end|down|mix)|enough|"
    r"all\s+(?:of\s+)?(?:my|the|them|those|these)|whole\s+(?:bottle|box|packet|pack|lot)|"
    r"handful|deserv\w*|punish\w*|feel\s+(?:something|better|real)|release|until|til|till|"
    r"(?:not|wasn'?t|isn'?t|no)\s+(?:an?\s+)?accident|look\w*\s+like\s+an?\s+accident|"
    r"hid(?:e|ing|den)?|secret\w*|scars?|urges?|sav(?:e|ed|ing)|stockpil\w*|hoard\w*|stash\w*|"
    r"collect\w*|tonight|numb|imagin\w*|pictur\w*|fantasi\w*|think\w*\s+(?:about|of)|"
    r"thought\s+(?:about|of)|panic\w*|angry|anger|upset|overwhelm\w*|hate\s+myself|cope|"
    r"coping|(?:a\s+)?loads?\s+of|lots\s+of|a\s+lot\s+of|a\s+bunch\s+of|dozens?|\d{2,}|"
    r"wash\w*\s+(?:it\s+|them\s+)?down|downed|necked|care\s+(?:whether|if)\s+i|lethal|fatal|"
    r"deadly|it\s+(?:takes|would\s+take|'d\s+take)|to\s+(?:die|kill|be\s+fatal))\b"
    r"|\b(?:told|tell|telling|say|said|saying|pretend\w*|lie|lied|lying|claim\w*)\b.{0,25}"
    r"\b(?:fell|slipped|tripped|accident|cat|walked\s+into|door)\b")
# The writer following someone else's example ("my own" alone points back to the act named).
COPYING = re.compile(
    r"\b(?:plan\w*|attempt\w*|try|trying)\s+my\s+own\b|\bmy\s+own\s*(?:[.,;!?]|$|too\b)"
    r"|\b(?:do|doing)\s+it\s+too\b|\b(?:follow|join)\s+(?:him|her|them)\b"
    r"|\bdo\s+(?:the\s+same|what\s+(?:he|she|they)\s+did)\b|\bgo\s+the\s+same\s+way\b"
    r"|\bsame\s+(?:way|thing)\s+(?:as|he|she|they)\b")

_SENTENCE_END = re.compile(r"[.!?\n]+(?:\s|$)|;")
_CLAUSE_END = re.compile(r"[;:\u2013\u2014]|\s-\s|,?\s+(?:and|but|now|so|yet|because|though|"
                         r"although)\s+")


def _around(text: str, start: int, end: int, splitter: re.Pattern[str]) -> tuple[int, int]:
    """The span of the piece of text (a sentence or a clause) that holds text[start:end]."""
    left = max((m.end() for m in splitter.finditer(text, 0, start)), default=0)
    right = next((m.start() for m in splitter.finditer(text, end)), len(text))
    return left, right


def _about(text: str, name: str, match: re.Match[str], s0: int) -> str | None:
    """"other" or "topic" when the match is about someone else or a subject, else None."""
    before = text[s0:match.start()]
    if name in NOUN_SIGNALS:
        if TOPIC_BEFORE.search(before) or TOPIC_AFTER.match(text, match.end()):
            return "topic"
        if EVENT.search(before):
            return "other"
    if (name in SELF_SIGNALS or FIRST_PERSON.search(match.group())
            or ME_NEXT.match(text, match.end())):
        return None
    people = list(PERSON.finditer(text, s0, match.start()))
    subject = PERSON.match(text, match.start()) or (people[-1] if people else None)
    if subject is None:
        unnamed = EVENT_UNNAMED.search(before) or PLURAL.fullmatch(match.group())
        return "other" if name in NOUN_SIGNALS and unnamed else None
    return "other" if subject.lastgroup == "third" else None


def match_context(text: str, name: str, match: re.Match[str]) -> str | None:
    """Why a match of signal `name` in normalised `text` is not about the writer now (a key of
    SUFFIXES), or None when it is."""
    s0, s1 = _around(text, match.start(), match.end(), _SENTENCE_END)
    sentence = text[s0:s1]
    about = _about(text, name, match, s0)
    if about is not None:
        return about
    c0, c1 = _around(text, match.start(), match.end(), _CLAUSE_END)
    if PAST.search(text[max(c0, s0):min(c1, s1)]) and not STILL.search(sentence):
        return "past"
    if name in EVERYDAY_SIGNALS and EVERYDAY.search(sentence) and not PURPOSE.search(sentence):
        return "everyday"
    return None
