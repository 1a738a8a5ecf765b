"""Crisis screen: input that signals a risk of suicide or self-harm gets crisis resources,
never an automated analysis. It runs before any model is loaded or any token generated.

Conservative on purpose: a false alarm costs a person a few lines of resources; a miss could
cost much more. So negations ("I would never kill myself") and third persons ("my friend wants
to die") still trigger. Only a short list of well-known figurative phrases is masked first
("dying of embarrassment", "this traffic is killing me", "dead tired", "the death of me",
"I'd kill for a coffee", "to die for"); whatever remains is screened, so "I want to die, not of
embarrassment" still triggers. "Die of shame" is deliberately *not* masked (shame is tied to
suicidal thinking). This is a keyword screen, not a clinical risk assessment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from cbt_schema.errors import UserError

NOTICE = ("Note: this is an automated self-help reflection, not a substitute for a therapist "
          "or other professional care.")

# Figurative uses removed before screening (each is replaced by a space).
_IDIOMS = [
    r"\b(?:die|dies|dying|died|dead)\s+(?:of|from|with)\s+(?:embarrassment|laughter|laughing|"
    r"boredom|curiosity|cuteness|excitement|envy|jealousy)\b",
    r"\b(?:is|are|was|were|it'?s|that'?s)\s+(?:\w+\s+)?killing\s+me\b",
    r"\bkill(?:ing|ed)?\s+it\b",
    r"\bdead\s+(?:tired|on\s+my\s+feet|beat|serious|set|wrong|easy)\b",
    r"\bthe\s+death\s+of\s+me\b",
    r"\b(?:kill|die)\s+for\s+(?:a|an|some|the)\b",
    r"\bto\s+die\s+for\b",
    r"\bnearly\s+died\s+laughing\b",
]

_ME = r"(?:my\s*self|myself|me)"
_NOT = r"(?:do\s*not|don'?t|dont|no\s+longer|not|never)"
_WAS = r"(?:was|were|am|i'?m|is)"

# Each pattern is one signal; any match screens the input. Text is lower-cased, curly quotes
# straightened and whitespace collapsed first.
_PATTERNS: dict[str, str] = {
    "suicide": r"\bsuicid\w*",
    "kill myself": rf"\bkill(?:ing|ed)?\s+{_ME}\b|\bkms\b|\bunalive\b",
    "end my life": r"\b(?:end|ending|ended|take|taking|took)\s+(?:my|my\s+own)\s+life\b",
    "end it all": r"\bend(?:ing)?\s+(?:it\s+all|everything|my\s+existence)\b"
                  r"|\bend(?:ing)?\s+things\b(?!\s+with)",
    "want to die": r"\b(?:want|wanted|wants|wanting|wanna|ready|deserve|going|need)\s+(?:to\s+)?"
                   r"(?:just\s+)?die\b|\b(?:wish|hope)\s+(?:that\s+)?i\s+(?:could|would|will)\s+"
                   r"(?:just\s+)?die\b|\bshould\s+(?:just\s+)?die\b|\bfeel\s+like\s+dying\b",
    "wish I were dead": r"\bwish\s+(?:that\s+)?i\s+(?:was|were|had)\s+"
                        r"(?:dead|never\s+been\s+born)\b"
                        r"|\b(?:rather|better\s+off)\s+(?:be\s+|being\s+)?dead\b"
                        r"|\bwant(?:ed)?\s+to\s+be\s+dead\b",
    "not want to live": rf"\b{_NOT}\s+(?:want|wish|wanna)\s+(?:to\s+)?(?:live|be\s+alive|exist|"
                        r"be\s+here|wake\s+up|go\s+on|carry\s+on)\b",
    "better off without me": r"\bbetter\s+off\s+(?:without\s+me|with\s+me\s+gone|if\s+i\b.{0,25}"
                             r"\b(?:gone|dead|here|around|alive))",
    "pills": r"\b(?:sav|stockpil|hoard|collect|stash|keep)\w*\s+(?:up\s+)?(?:all\s+)?(?:my\s+)?"
             r"(?:pills|tablets|meds|medication|painkillers|sleeping)"
             r"|\b(?:take|taking|took|swallow\w*)\s+(?:all|a\s+lot|lots|a\s+handful|the\s+whole)\s+"
             r"(?:of\s+)?(?:my\s+|the\s+|those\s+)?(?:pills|tablets|meds|medication|painkillers)"
             r"|\bhow\s+many\s+(?:\w+\s+)?(?:pills|tablets|paracetamol|ibuprofen|painkillers)",
    "overdose": r"\boverdos\w*|\b(?:an|to)\s+od\b",
    "self-harm": rf"\bself[-\s]?harm\w*|\b(?:cut|cutting|burn|burning|burned|burnt|hurt|hurting|"
                 rf"harm|harming|punish|punishing|starve|starving)\s+{_ME}\b",
    "never wake up": r"\b(?:never|not|don'?t|do\s+not)\s+wake\s+up\b|\bsleep\s+forever\b",
    "no reason to live": r"\b(?:no|any|what'?s\s+the|what\s+is\s+the|the)\s+(?:reason|point)\s+"
                         r"(?:for\s+me\s+)?(?:to|in|of)\s+(?:live|living|life|go\s+on|going\s+on|"
                         r"being\s+alive|carry\s+on|carrying\s+on|being\s+here)\b"
                         r"|\bnot\s+worth\s+living\b|\blife\s+(?:is\s+not|isn'?t|is\s+no\s+longer)"
                         r"\s+worth\b",
    "can't go on": r"\b(?:can'?t|cannot|can\s+not|couldn'?t)\s+(?:go|carry)\s+on\b",
    "want it to end": r"\b(?:want|wish|need)\w*\s+"
                      r"(?:it\s+all|everything|my\s+life|all\s+of\s+it)\s+"
                      r"to\s+(?:end|stop|be\s+over)\b",
    "goodbye note": r"\b(?:goodbye|farewell|suicide)\s+(?:letter|note|message)s?\b",
    "giving things away": r"\bgiv\w*\s+away\s+(?:all\s+)?(?:my|of\s+my)\s+(?:things|stuff|"
                          r"belongings|possessions)",
    "burden": rf"\b(?:{_WAS}|being|be)\s+(?:such\s+|just\s+)?a\s+burden\b"
              r"|\bburden\s+(?:to|on|for)\s+(?:everyone|everybody|anyone|anybody|my|them|others)\b",
    "not be here": rf"\b(?:{_NOT}|wasn'?t|weren'?t|won'?t|will\s+not)\s+(?:be\s+)?(?:here|around)"
                   r"\s+(?:any\s*more|much\s+longer|for\s+long)\b"
                   r"|\b(?:here|around)\s+much\s+longer\b|\bif\s+i\s+(?:was|were)\s+gone\b"
                   r"|\bwasn'?t\s+(?:here|around)\b",
    "disappear for good": r"\bdisappear\w*\s+(?:forever|for\s+good|permanently)\b"
                          r"|\b(?:notice|care|miss\s+me)\s+if\s+i\s+(?:disappeared|died|was\s+gone|"
                          r"were\s+gone|vanished)\b",
    "method": r"\bjump\w*\s+(?:off|from|in\s+front)\b|\bthinking\s+(?:about|of)\s+jumping\b"
              r"|\b(?:step|stepping|walk|walking|throw\w*\s+myself)\s+in\s+front\s+of\b"
              r"|\bhang(?:ing)?\s+myself\b|\bnoose\b|\bbought\s+a\s+rope\b"
              r"|\b(?:drive|driving|drove|crash\w*)\s+(?:my\s+car\s+)?(?:in)?to\s+(?:a\s+wall|"
              r"a\s+tree|oncoming|traffic)|\bwhere\s+i'?d\s+do\s+it\b|\bhow\s+i'?d\s+do\s+it\b",
    "own funeral": r"\bmy\s+own\s+funeral\b",
    "end it": r"\bend\s+it\b(?!\s+(?:with|between))",
    "ways to die": r"\b(?:painless|quick|quickest|easy|easiest|best)\s+(?:way|ways)\s+to\s+"
                   r"(?:go|die|do\s+it)\b|\bhow\s+to\s+(?:kill|end|die)\b|\bways\s+to\s+die\b",
    "tired of living": r"\b(?:tired|sick|weary|done)\s+(?:of|with)\s+(?:being\s+alive|living|"
                       r"life(?=\s*(?:$|[.,;!?]|and\b|so\b))|existing)\b",
    "want out": r"\bwant\s+out\b.{0,20}\b(?:permanently|for\s+good|forever|"
                r"of\s+(?:this\s+)?life)\b",
    "pills and alcohol": r"\b(?:pills|tablets|meds|medication|antidepressants|painkillers|"
                         r"sleeping\s+pills)\b.{0,60}\b(?:vodka|alcohol|whisky|whiskey|wine|"
                         r"drink|bottle)\b|\b(?:vodka|alcohol|whisky|whiskey|wine|bottle)\b.{0,60}"
                         r"\b(?:pills|tablets|meds|antidepressants|painkillers)\b",
    "bleeding": r"\buntil\s+(?:they|it|i|my\s+\w+)\s+bleeds?\b|\bmake\s+myself\s+bleed\b"
                r"|\bscratch\w*\s+(?:my|at\s+my)\s+(?:arms|wrists|legs|skin)\b|\bmy\s+wrists\b",
    "weapon": r"\b(?:gun|firearm|pistol|rifle|shotgun)\b.{0,40}\b(?:loaded|myself|my\s+head|"
              r"my\s+mouth)\b|\bloaded\s+(?:gun|pistol|rifle)\b",
    "stop existing": r"\b(?:stop|stopped|stopping|cease|ceased)\s+(?:existing|to\s+exist)\b",
    "stop forever": r"\b(?:stop|end|be\s+over)\s+(?:forever|for\s+good|permanently)\b",
    "goodbyes": r"\b(?:said|saying|say)\s+(?:my\s+)?goodbyes\b|\bmade\s+(?:my\s+)?peace\b",
    "no future": rf"\b{_NOT}\s+(?:plan|planning|expect|expecting)\w*\s+(?:on\s+|to\s+)?"
                 r"(?:be|being)\s+(?:here|around|alive)\b|\bcan'?t\s+see\s+a\s+future\b"
                 r"|\bno\s+future\s+for\s+me\b",
    "if I die": r"\b(?:if|when|hope|wish|once)\s+i\s+(?:die|died|was\s+dead|were\s+dead)\b",
    "thinking about death": r"\bthink\w*\s+(?:about|of)\s+(?:death|dying|being\s+dead|my\s+death|"
                            r"killing)\b|\b(?:death|dying)\b.{0,50}\b(?:relief|peace|escape|"
                            r"only\s+way|way\s+out)\b",
    "finish it": r"\b(?:finish|finishing|finished)\s+it\b(?!\s+(?:off|up|by|before|today|"
                 r"tomorrow|on\s+time))|\bplanning\s+how\s+to\s+do\s+it\b"
                 r"|\b(?:how|when|where)\s+(?:i'?ll|i\s+will|to)\s+do\s+it\b(?=.{0,3}$)",
    "deserve to suffer": r"\bdeserve\s+to\s+(?:suffer|be\s+punished|be\s+hurt|not\s+exist)\b",
    "heights and tracks": r"\b(?:edge|top)\s+of\s+the\s+(?:platform|bridge|roof|cliff|building)\b"
                          r"|\b(?:top\s+floor|rooftop)\s+(?:balcony|ledge|window)\b",
    "not be": r"\b(?:like|want|wanted|wish)\s+to\s+(?:just\s+)?not\s+(?:be|exist|be\s+here)\b",
    "fine without me": r"\b(?:fine|better|happier|easier)\s+without\s+(?:me|their\s+\w+\s+"
                       r"(?:mother|father|mum|mom|dad|son|daughter|sister|brother|wife|husband))\b",
    "will at a young age": r"\b(?:wrote|writing|written|made|make)\s+my\s+will\b",
    "took tablets": r"\b(?:took|taken|swallowed)\s+"
                    r"(?:\d+|\w+ty|\w+teen|a\s+bunch\s+of|loads\s+of)"
                    r"\s+(?:of\s+)?(?:my\s+)?(?:pills|tablets|paracetamol|painkillers|sleeping)",
    "when I'm gone": r"\b(?:when|after|once)\s+(?:i'?m|i\s+am)\s+gone\b",
    "no way out": r"\bway\s+out\b.{0,30}\b(?:die|dying|death|dead)\b",
}
_IDIOM_RE = re.compile("|".join(_IDIOMS))
_SIGNALS = {name: re.compile(pattern) for name, pattern in _PATTERNS.items()}


def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, collapsed whitespace."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    return re.sub(r"\s+", " ", text).strip()


@dataclass(frozen=True)
class Screen:
    """The screen's verdict: `crisis` and which signals fired (for logs and tests)."""

    crisis: bool
    signals: tuple[str, ...] = ()


def screen(text: str) -> Screen:
    """Screen one input for suicide or self-harm risk (see the module docstring)."""
    cleaned = _IDIOM_RE.sub(" ", normalise(text))
    hits = tuple(name for name, regex in _SIGNALS.items() if regex.search(cleaned))
    return Screen(bool(hits), hits)


class Resource(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1)
    contact: str = Field(min_length=1)


class CrisisResources(BaseModel):
    """The crisis response: a supportive message, resources, a closing line (configurable)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    message: str = Field(min_length=1)
    resources: list[Resource] = Field(min_length=1)
    closing: str = ""

    @classmethod
    def default(cls) -> CrisisResources:
        raw = resources.files("cbt_infer").joinpath("data/crisis_resources.json").read_text()
        return cls.model_validate_json(raw)

    @classmethod
    def load(cls, path: str | Path | None) -> CrisisResources:
        """Read a JSON file shaped like data/crisis_resources.json; None gives the default."""
        if path is None:
            return cls.default()
        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: crisis resources file not found")
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise UserError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            key = ".".join(str(p) for p in err["loc"]) or "(top level)"
            raise UserError(f"{path}: {key}: {err['msg']} (expected keys: message, "
                            "resources [{name, contact}], closing)") from None

    def render(self) -> str:
        lines = [self.message, ""]
        lines += [f"- {r.name}: {r.contact}" for r in self.resources]
        if self.closing:
            lines += ["", self.closing]
        return "\n".join(lines)
