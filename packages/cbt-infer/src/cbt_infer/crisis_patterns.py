"""The crisis screen's patterns (see cbt_infer.safety): figurative uses masked first, then the
signals, each a regular expression over lower-cased text with straight apostrophes.

The first group was written with the project's own phrase lists
(safety/train/crisis_phrases.txt). The second group (GENERALISED) came from a fresh set of 80
phrasings written independently of the screen (safety/train/crisis_phrases_fresh.txt): it
names concepts (an act on one's own body, a wish not to wake, a means, preparation, slang)
rather than fixed sentences. The third group (WARNING_SIGNS) names preparation: settling debts
or affairs so no one else has to, giving possessions away, farewell messages; these are
possible signals, and the screen adds the likely PLAN_SIGNAL when a plan or a time is stated
too. Whether a match is about the writer now is cbt_infer.crisis_context's job. Recall on the
held-out sets (safety/heldout_*) is measured by the crisis_probe stage; no pattern was written
from heldout_a or heldout_b, and the context rule was checked against all three.
"""

from __future__ import annotations

# Figurative uses removed before screening (each is replaced by a space).
IDIOMS = [
    r"\b(?:die|dies|dying|died|dead)\s+(?:of|from|with)\s+(?:embarrassment|laughter|laughing|"
    r"boredom|curiosity|cuteness|excitement|envy|jealousy)\b",
    r"\b(?:is|are|was|were|it'?s|that'?s)\s+(?:\w+\s+)?killing\s+me\b",
    r"\bkill(?:ing|ed)?\s+it\b",
    r"\bdead\s+(?:tired|on\s+my\s+feet|beat|serious|set|wrong|easy)\b",
    r"\bthe\s+death\s+of\s+me\b",
    r"\b(?:kill|die)\s+for\s+(?:a|an|some|the)\b",
    r"\b(?:is|are|was|were|'s|looks?|tastes?|smells?|sounds?)\s+(?:\w+\s+)?to\s+die\s+for\b",
    r"\bnearly\s+died\s+laughing\b",
    r"\b(?:is|are|was|were|it'?s|that'?s)\s+(?:\w+\s+)?going\s+to\s+kill\s+me\b",
    r"\bkill\s+me\s+now\b",
    r"\boverdos\w*\s+on\s+(?:caffeine|coffee|sugar|chocolate|energy\s+drinks|red\s+bull|netflix|"
    r"tv|telly|social\s+media)\b",
]

_ME = r"(?:my\s*self|myself|me)"
_NOT = r"(?:do\s*not|don'?t|dont|no\s+longer|not|never)"
_WAS = r"(?:was|were|am|i'?m|is)"

# Each pattern is one signal; any match screens the input. Text is lower-cased, curly quotes
# straightened and whitespace collapsed first.
PATTERNS: dict[str, str] = {
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

_BODY = (r"(?:arms?|forearms?|wrists?|thighs?|legs?|stomach|belly|skin|hips?|chest|ankles?|"
         r"shoulders?)")
_DRUGS = (r"(?:pills|tablets|meds|medications?|medicines?|painkillers|prescriptions?|"
          r"sleeping\s+pills|paracetamol|ibuprofen|aspirin|sertraline|fluoxetine|citalopram|"
          r"codeine|tramadol|insulin|antidepressants)")
_WISH = r"(?:if|hope|hoping|hoped|wish|wishing|wished|pray|praying|prayed)"
_NEG = r"(?:didn'?t|didnt|did\s+not|don'?t|dont|wouldn'?t|wouldnt|won'?t|wont|never|not)"

GENERALISED: dict[str, str] = {
    "slang": r"\bunaliv\w*|\bsewer\s*slid\w*|\bctb\b|\boff(?:ing)?\s+myself\b"
             r"|\bi'?m\s+checking\s+out\b(?!\s+(?:the|a|an|this|that|some|my|of|at|from|"
             r"with|what|how|new))",
    "act on own body": rf"\b(?:cut|cuts|cutting|carv\w*|slash\w*|slic\w*)\s+(?:into\s+)?"
                       rf"(?:my|at\s+my)\s+(?:own\s+)?{_BODY}\b"
                       rf"|\bcarv\w*\s+.{{0,20}}\binto\s+my\b"
                       rf"|\b(?:burn\w*|scratch\w*|scrap\w*|bruis\w*)\s+(?:my|at\s+my)\s+"
                       rf"{_BODY}\b.{{0,60}}\b(?:again|on\s+purpose|deserv\w*|lighter|razor|"
                       rf"blade|so\s+no\s+one|until|punish\w*)",
    "hitting myself": r"\b(?:hit|hits|hitting|punch\w*|slap\w*|bit|bite|biting)\s+myself\b"
                      r"|(?<!like\s)\bbang\w*\s+my\s+head\s+(?:against|on|into)\s+(?:the|a)\s+"
                      r"(?!brick)\w+",
    "relapse": r"\brelaps\w*\b.{0,30}\b(?:cut\w*|self|harm\w*|burn\w*)"
               r"|\b(?:cut|cutting|harm\w*|burn\w*)\s+(?:myself\s+)?again\b(?!\s+(?:with|on))",
    "blade kept": r"\brazor\s+blades?\b|\bblades?\b.{0,40}\b(?:in\s+case|hidden|hide|"
                  r"keep\s+it|need\s+it)\b",
    "starving": r"\bwaste\s+away\b|\b(?:eat\w*|eaten)\b.{0,30}\bon\s+purpose\b",
    "wish not to wake": rf"\b{_WISH}\s+(?:that\s+)?i\s+(?:just\s+)?{_NEG}\s+(?:just\s+)?"
                        r"(?:wake|survive|make\s+it|come\s+(?:up|back|home)|get\s+up)\b"
                        r"|\basleep\s+forever\b",
    "wish to be taken": rf"\b{_WISH}\b.{{0,40}}\b(?:hit|hits|kill|kills|crush\w*|run\s+over)\s+"
                        rf"me\b(?!\s+up\b)|\b{_WISH}\b.{{0,40}}\btakes?\s+me\b(?!\s+(?:to|back|"
                        r"home|out|through|for|in|up|on|down|off|away|a\s+while|ages|long|hours)\b)",
    "death as relief": r"\b(?:being|be)\s+(?:dead|gone)\b.{0,40}\b(?:peace\w*|relie\w*|"
                       r"better|easier|calm|nice|comfort\w*)"
                       r"|\b(?:peace\w*|relie\w*)\b.{0,30}\b(?:being\s+dead|not\s+existing)\b",
    "not alive by": r"\b(?:don'?t|dont|do\s+not|can'?t|cant|cannot)\s+(?:see|imagine|picture)"
                    r"\s+myself\s+(?:being\s+|still\s+)?(?:alive|here|around)\b",
    "not a problem much longer": r"\b(?:problem|burden|bother|trouble)\s+(?:for|to)\s+"
                                 r"(?:anyone|anybody|everyone|you|them)\s+(?:much\s+)?longer\b"
                                 r"|\bnot\s+(?:going\s+to|gonna)\s+be\s+a\s+(?:problem|burden)",
    "gone soon": r"\b(?:i'?ll|i\s+will|she'?ll|he'?ll)\s+be\s+gone\s+(?:soon|forever|"
                 r"for\s+good|by)\b|\bnobody\s+(?:will|would|'?d)\s+(?:even\s+)?"
                 r"(?:notice|care|miss)\b",
    "better if not here": r"\b(?:better|easier|happier)\b.{0,20}\b(?:if|when|once)\s+i'?m\s+"
                          r"(?:not\s+(?:here|around|alive)|gone|dead)\b",
    "means: vehicle": r"\b(?:steer\w*|swerv\w*|veer\w*|driv\w*|crash\w*)\s+(?:\w+\s+){0,3}"
                      r"(?:in)?to\s+(?:the\s+|a\s+|an\s+)?(?:oncoming|traffic|lorry|truck|"
                      r"bus|wall|tree|river|barrier)\b",
    "means: height": r"\b(?:climb\w*|jump\w*|step\w*|lean\w*)\s+(?:over|off)\s+(?:the\s+)?"
                     r"(?:barrier|railings?|rail|edge|ledge|parapet)\b"
                     r"|\b(?:bridge|ledge|roof|rooftop|cliff|balcony)\b.{0,50}\blook\w*\s+down\b"
                     r"|\bjump\b.{0,40}\b(?:high|tallest|platform|bridge|roof|building|"
                     r"balcony|ledge|cliff)\b|\b(?:tallest|highest|platform|bridge|roof|"
                     r"building|balcony|ledge|cliff)\b.{0,40}\bjump\b"
                     r"|\bso\s+(?:that\s+)?i\s+(?:can|could)\s+(?:jump|die|end\s+it|do\s+it)\b",
    "means: water": r"\bwalk\w*\s+into\s+the\s+(?:sea|ocean|river|lake|water)\b"
                    r"|\b(?:and|then)\s+not\s+(?:come|coming)\s+back\b",
    "means: turned on myself": r"\b(?:use|using|used|turn|turning|point\w*)\s+(?:it|them|the\s+"
                               r"\w+|a\s+\w+|his\s+\w+)\s+on\s+myself\b"
                               r"|\bhanging\b.{0,20}\b(?:hurt|painful|pain|quick|work)",
    "means: medication": rf"\bhow\s+many\b.{{0,40}}\bit\s+would\s+take\b"
                         rf"|\b(?:sav|stockpil|hoard|collect|stash|keep)\w*\s+(?:up\s+)?"
                         rf"(?:all\s+)?(?:my\s+)?{_DRUGS}\b.{{0,30}}\binstead\b"
                         rf"|\b(?:collect|stockpil|hoard|stash)\w*\s+(?:all\s+)?(?:my\s+)?{_DRUGS}",
    "life insurance": r"\blife\s+insurance\b.{0,60}\b(?:worth\s+more|pay\w*\s+out|"
                      r"if\s+i\s+die|alive|dead)\b|\bworth\s+more\s+dead\b",
    "preparation": r"\b(?:written|wrote|writing|left|leaving)\s+(?:letters|notes)\s+(?:to|for)\s+"
                   r"(?:my|everyone|all|each)\b|\bwon'?t\s+be\s+needing\s+(?:them|it|these|those)"
                   r"|\bknow\w*\s+it\s+was\s+(?:a\s+|my\s+)?(?:goodbye|the\s+last)"
                   r"|\b(?:updat\w*|chang\w*|finish\w*)\s+my\s+will\b"
                   r"|\bloose\s+ends\b.{0,30}\bbefore\s+i\s+(?:go|die|leave)\b(?!\s+\w)"
                   r"|\bwho\s+gets\s+my\b|\b(?:look\s+after|take\s+care\s+of)\b.{0,40}\bif\s+"
                   r"anything\s+(?:happens|happened)\b",
    "intent": r"\bend(?:ing)?\s+it\b(?!\s+(?:with|between|off|all\s+with))"
              r"|\bcan'?t\s+do\s+(?:this\s+|it\s+)?(?:another|one\s+more)\s+day\b",
}
PATTERNS.update(GENERALISED)

_OBJ = (r"(?:debts?|affairs|accounts?|bills|finances|money|papers|paperwork|passwords|bank\s+"
        r"details|pension|insurance|will|credit\s+cards?|loans?|overdraft|rent|mortgage|stuff|"
        r"things|belongings)")
_SPARE = (r"\b(?:so|and|then)\s+(?:that\s+)?(?:no\s*one|nobody|noone|they|he|she|my\s+\w+|"
          r"the\s+\w+|\w+)(?:'\w+)?\s+(?:[\w']+\s+){0,3}(?:deal|dealing|stuck|left|landed|lumbered|saddled|"
          r"out\s+of\s+pocket|worry|worrying|(?:a|the)\s+mess|clean\s+up|pick\s+up\s+the\s+pieces)\b"
          r"|\b(?:less|no)\s+(?:of\s+a\s+)?mess\s+for\b")
SETTLE = (rf"\b(?:settl|clear|pay|paid|sort|tidy|tidi|organis|organiz|clos|cancel|sold|sell|"
           rf"writ|wrote|list|put|gather|arrang|label|fil)\w*\s+(?:\w+\s+){{0,3}}my\s+(?:\w+\s+)?{_OBJ}\b")
_NO_NEED = (r"\b(?:won'?t|wont|will\s+not|not\s+going\s+to)\s+(?:be\s+)?need(?:ing)?\s+(?:it|them|"
            r"any\s+of\s+(?:it|them)|this|these|those|that)\b|\bno\s+point\s+(?:in\s+)?keeping\b"
            r"|\bwhere\s+i'?m\s+going\b|\bto\s+remember\s+me\s+by\b")
_GIVE = (r"\b(?:giv\w*|gave|hand\w*\s+over|donat\w*|pass\w*\s+on|sold|sell\w*|can\s+have|"
         r"clear\w*\s+out|charity\s+shop)\b")
_PET = r"(?:cat|cats|dog|dogs|pets?|rabbits?|kids|children)"

# Warning signs of preparation: settling debts or affairs so that others need not, giving
# possessions away, farewell messages, arranging who takes the pets. Alone each is a possible
# signal; with a stated plan or time (PLAN, WHEN) the screen adds "warning sign with a plan"
# (PLAN_SIGNAL), a likely signal, and so it does for settling one's affairs (SETTLE) with a
# stated plan.
WARNING_SIGNS: dict[str, str] = {
    "settling affairs": rf"{SETTLE}.{{0,120}}(?:{_SPARE})|(?:{_SPARE}).{{0,120}}{SETTLE}"
                        r"|\bmy\s+(?:affairs|papers|paperwork|finances)\s+in\s+order\b"
                        r"|\btying\s+up\s+(?:all\s+)?(?:of\s+)?my\s+loose\s+ends\b",
    "giving possessions away": rf"{_GIVE}.{{0,100}}(?:{_NO_NEED})|\bto\s+remember\s+me\s+by\b"
                               rf"|\b(?:who\s+will|who'?ll|someone\s+to)\s+(?:take|have|look\s+"
                               rf"after|feed|walk)\s+my\s+{_PET}\b"
                               rf"|\bmy\s+{_PET}\s+a\s+new\s+home\b.{{0,60}}\b(?:won'?t\s+be|"
                               r"much\s+longer|after\s+i|when\s+i'?m)",
    "farewell messages": r"\b(?:goodbye|farewell)\s+(?:texts?|emails?|videos?|voice\s*notes?)\b"
                         r"|\b(?:last|final)\s+(?:letters?|messages?|texts?|notes?|words)\s+(?:to|for)"
                         r"\s+(?:my|each|every|all|everyone)\b"
                         r"|\b(?:a|one)\s+(?:letter|note|card)\s+(?:to|for)\s+(?:each|every)\b"
                         r"|\bdon'?t\s+know\s+(?:they'?re|it'?s|it\s+was|they\s+were)\s+(?:a\s+)?"
                         r"goodbyes?\b|\bsaid\s+goodbye\b.{0,40}\bfor\s+the\s+last\s+time\b",
}
PATTERNS.update(WARNING_SIGNS)

# A stated plan: a chosen date, place or method, or a decision.
PLAN = (r"\b(?:picked|chosen|chose|decided\s+on|fixed)\s+(?:a|the|my)\s+(?:date|day|"
        r"time|spot|place|night|way|method)\b|\b(?:i'?ve|i\s+have)\s+(?:already\s+)?(?:decided|made"
        r"\s+up\s+my\s+mind)\b(?!\s+(?:to|on|what|which|whether|if)\b)"
        r"|\b(?:it'?ll|it\s+will|it'?s\s+going\s+to)\s+(?:be|happen)\s+(?:on|after|before|this|next)\b")
# A time set for it; with a warning sign it reads as a plan (PLAN_SIGNAL).
WHEN = (r"\b(?:before|after|on|by|until|this|next)\s+(?:monday|tuesday|wednesday|thursday|friday|"
        r"saturday|sunday|christmas|new\s+year|my\s+birthday|the\s+weekend|weekend)\b"
        r"|\bnot\s+long\s+now\b|\bjust\s+(?:waiting|a\s+matter\s+of\s+time)\b"
        r"|\bi'?m\s+ready\s*(?:[.!]|$|now\b)|\bbefore\s+i\s+(?:go|leave)\b")
PLAN_SIGNAL = "warning sign with a plan"

# Signals of passive thoughts of death, being a burden or having no future, with no intent,
# plan, means or act named, and the warning signs above. Alone they put a text in the
# *possible* tier (resources first, then the analysis); every other signal, unless distanced
# (cbt_infer.crisis_context), puts it in the *likely* tier (resources only).
POSSIBLE_SIGNALS = frozenset({"burden", "if I die", "thinking about death", "no future",
                              "will at a young age", "life insurance", *WARNING_SIGNS})
