"""Deterministic generator of an evaluation set for syndicated-copy detection.

``build(seed, n_bases)`` returns a list of article dicts with ground truth:

* ``story``: articles with the same story are copies of one another;
* ``kind``: base | template | attribution | footer | truncated | edited | reworded |
  same_event | same_site | brief.

Each base article is built from an *event* (people, place, organisation, numbers,
a quote, topic words) and a large grammar of sentence templates, so an independent
article on the same event (``same_event``) shares names, numbers, topic words and the
quote but not sentences. Outlets have their own header/footer boilerplate, shared by
all their articles (``same_site`` hard negatives come for free). ``brief`` articles
are one- or two-sentence items built from one shared template.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

FIRST = ("Amina Daniel Olena Peter Maria Tomas Grace Ibrahim Yusuf Sofia Lukas Chen Priya Mateo Hana Kwame "
         "Elena Rafael Nadia Oskar Leila Marco Ines Samuel Fatima Jonas Aisha Viktor Clara Dmitri Zainab "
         "Henrik Lucia Omar Freya Tariq Ingrid Emeka Rosa Andrei").split()
LAST = ("Okafor Kowalski Shevchenko Lindqvist Haddad Moreno Tanaka Mensah Novak Rahman Fischer Costa Adeyemi "
        "Petrov Silva Nakamura Osei Bauer Horvat Karimi Duarte Eriksen Mwangi Rossi Vasquez Demir Kovacs "
        "Nguyen Abubakar Larsen Ferreira Ivanova Hussain Kruger Popescu Achebe Brennan Sato Oyelaran").split()
PLACES = ("Lagos Kharkiv Odesa Lisbon Nairobi Accra Krakow Osaka Bergen Porto Mombasa Antwerp Tampere Izmir "
          "Sevilla Gdansk Kumasi Ibadan Cherkasy Dnipro Malmo Bilbao Kano Durban Tbilisi Yerevan Riga Split "
          "Varna Aarhus Leipzig Valencia Abuja Enugu Lviv Tartu Graz Bari Ghent").split()
ORGS = ("the Ministry of Health|the central bank|the city council|the state electricity company|the port authority|"
        "the national statistics office|the teachers' union|the energy regulator|the interior ministry|"
        "the water utility|the football federation|the aviation authority|the election commission|"
        "the supreme court|the finance ministry|the transport agency|the chamber of commerce|"
        "the refugee agency|the fire service|the weather service").split("|")
TOPICS = [
    ("flood", "rainfall river levels evacuation dams rescue shelters embankments".split()),
    ("strike", "wages walkout unions pensions negotiations picket contracts".split()),
    ("drone", "drones missiles air defence shelling casualties ceasefire frontline".split()),
    ("budget", "deficit taxes spending borrowing inflation revenue subsidies".split()),
    ("election", "ballots turnout candidates polling coalition runoff campaign".split()),
    ("outbreak", "infections vaccines clinics quarantine cholera hospitals symptoms".split()),
    ("fire", "blaze firefighters wildfire hectares evacuations smoke arson".split()),
    ("port", "shipping containers cargo tariffs vessels berths exports".split()),
    ("blackout", "outages grid substations generators electricity rationing repairs".split()),
    ("court", "verdict appeal judges prosecutors sentence defendants testimony".split()),
    ("transit", "railway commuters fares tunnel buses timetable delays".split()),
    ("housing", "rents mortgages tenants construction permits landlords evictions".split()),
]
DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
ADJ = ("significant sharp sudden unexpected major modest severe growing renewed prolonged widespread careful "
       "urgent limited partial temporary historic fragile steady rapid early late heavy fresh bitter quiet").split()
NOUN = ("decision plan proposal report statement measure agreement review warning investigation estimate "
        "figure reform budget response programme package deadline request meeting assessment survey "
        "inquiry initiative policy strategy").split()
VERB_PAST = ("announced approved rejected confirmed delayed criticised defended unveiled questioned extended "
             "suspended expanded postponed welcomed condemned ordered published revised doubled halved").split()
REPORT = "said told reporters stated added noted explained insisted warned acknowledged argued".split()
CONNECT = ("Meanwhile|At the same time|Earlier|Later|In a separate development|Separately|Despite this|"
           "Critics say that|Officials believe that|Analysts expect that|Residents complained that|"
           "Local media reported that|It was not immediately clear whether").split("|")

TEMPLATES = [
    "{P1} {report} that {org} had {verb} the {noun} after {num1} {kw1} were recorded in {place} on {day}.",
    "{Connect} {org} {verb} a {adj} {noun} on {kw2}, according to {P2}.",
    "The {adj} {noun} comes as {kw1} in {place} rose to {num2}, the highest level in {num3} years.",
    "{P2} {report} the {noun} was \"{adj} but necessary\" and that more {kw3} would follow.",
    "In {place}, {num1} people were affected by the {kw1}, while {org} {verb} plans for {kw2}.",
    "{Connect} the {kw2} dispute could last weeks, with {P1} calling for a {adj} {noun}.",
    "Data from {org} showed {kw3} fell by {num3} percent over the past year.",
    "A spokesperson for {org} {report} the {noun} would be {verb} within {num3} days.",
    "{P2}, who has led {org} since {year}, {verb} the {noun} in a {adj} speech in {place}.",
    "Residents of {place} described {adj} scenes as {kw1} and {kw2} spread across the region.",
    "The {noun} follows a {adj} {noun2} last {month} that {verb} {kw3} for {num2} households.",
    "{Connect} {P1} {verb} the {noun2}, saying {kw2} would cost about {num2} million.",
    "Opposition figures {verb} the {noun}, arguing it ignored {kw3} and {kw1}.",
    "On {day}, {org} {verb} {num1} new {kw3} in {place} and neighbouring districts.",
    "\"{Quote2}\" {P2} {report}, adding that {kw2} remained the main concern.",
    "The {adj} rise in {kw1} has put pressure on {org}, which {verb} its {noun2} in {month}.",
    "{Connect} a {adj} {noun} by {org} estimated the cost of {kw3} at {num2} million.",
    "{P1} {report} at a news conference that {num1} {kw2} had been {verb} so far.",
    "More than {num2} {kw3} have been reported since {month}, {org} {report}.",
    "The {noun2} was {verb} after {num3} hours of talks between {org} and local officials in {place}.",
    "Experts warned that {kw1} could worsen if the {noun} is {verb} again.",
    "{Connect} {kw2} in {place} reached {num1}, up from {num3} a week earlier.",
    "Asked about {kw3}, {P2} {report} that {org} would publish a {adj} {noun} by {month}.",
    "Footage shared online showed {kw1} near the centre of {place} on {day} evening.",
]
# Another outlet's own reporting: its own sentences around the same facts.
TEMPLATES_B = [
    "Authorities in {place} are struggling to contain {kw1} after a week in which {num1} cases were logged.",
    "{P1} has come under fire over the handling of {kw2}, with rivals demanding answers by {month}.",
    "Figures seen by this newspaper suggest {kw3} may be far worse than {org} has admitted.",
    "According to people familiar with the matter, {org} is weighing options that include {kw1} curbs.",
    "Shopkeepers near the main square said business had slumped since the {kw2} began.",
    "The last comparable episode, in {year}, left {num2} people without support for months.",
    "{P2} is expected to face questions from lawmakers about {kw3} when parliament returns.",
    "Volunteers handed out food and blankets as {kw1} continued into the night.",
    "There was no immediate comment from {org} when contacted on {day}.",
    "Independent monitors have counted at least {num1} incidents linked to {kw2} this year.",
    "Budget documents indicate that roughly {num2} million has been set aside for {kw3}.",
    "Regional governors have asked the capital for extra help with {kw1} and {kw2}.",
    "Some families told of waiting {num3} days for assistance that never arrived.",
    "The crisis has become a test of credibility for {P1} ahead of next year's vote.",
    "Schools across {place} were closed as a precaution, officials confirmed late on {day}.",
    "Neighbouring towns reported similar problems with {kw3}, though on a smaller scale.",
    "Unions and business groups rarely agree, but both have criticised the handling of {kw2}.",
    "International partners have offered technical help, a diplomat in {place} said.",
    "Prices for basic goods have climbed since the start of the {kw1}, shoppers said.",
    "The government's critics point to years of underinvestment in {kw3}.",
    "A hotline set up by {org} received more than {num2} calls in its first {num3} days.",
    "Engineers were dispatched to assess the damage, a statement from {org} read.",
]
MONTHS = "January February March April May June July August September October November December".split()

OUTLETS = [
    ("The Daily Ledger", "dailyledger.com"), ("Aljazeera", "aljazeera.com"), ("Metro Wire", "metrowire.net"),
    ("Coastal Times", "coastaltimes.org"), ("Premium Times", "premiumtimes.ng"), ("Kyiv Dispatch", "kyivdispatch.ua"),
    ("Nordic Post", "nordicpost.se"), ("Harbour Herald", "harbourherald.co.uk"), ("Valley Voice", "valleyvoice.com"),
    ("The Courier", "thecourier.ie"),
]
REPUBLISHERS = [
    ("234Radio", "234radio.com"), ("NewsNow Hub", "newsnowhub.com"), ("Daily Aggregator", "dailyaggregator.net"),
    ("World Feed", "worldfeed.info"), ("Top Stories Online", "topstories.online"), ("Reader Digest Net", "rdnet.biz"),
]


def site_boilerplate(name: str, domain: str) -> tuple[list[str], list[str]]:
    head = [f"Follow {name} on social media for the latest updates and breaking news alerts."]
    foot = [f"{name} is an independent news service bringing you stories that matter every day, "
            f"from our newsroom to your screen.",
            f"Copyright {name} ({domain}). All rights reserved. Reproduction without permission is prohibited."]
    return head, foot


SYNONYMS = {
    "said": "stated", "told": "informed", "announced": "declared", "approved": "endorsed", "rejected": "dismissed",
    "confirmed": "verified", "delayed": "postponed", "criticised": "slammed", "defended": "justified",
    "unveiled": "revealed", "questioned": "challenged", "extended": "prolonged", "suspended": "halted",
    "expanded": "widened", "postponed": "deferred", "welcomed": "praised", "condemned": "denounced",
    "ordered": "mandated", "published": "released", "revised": "amended", "doubled": "increased twofold",
    "halved": "cut in half", "significant": "considerable", "sharp": "steep", "sudden": "abrupt",
    "unexpected": "surprising", "major": "key", "modest": "small", "severe": "serious", "growing": "rising",
    "renewed": "fresh", "prolonged": "lengthy", "widespread": "extensive", "careful": "cautious",
    "urgent": "pressing", "limited": "restricted", "partial": "incomplete", "temporary": "short-term",
    "historic": "landmark", "fragile": "delicate", "steady": "stable", "rapid": "quick", "heavy": "intense",
    "decision": "ruling", "plan": "scheme", "proposal": "suggestion", "report": "account",
    "statement": "declaration", "measure": "step", "agreement": "deal", "review": "evaluation",
    "warning": "caution", "investigation": "probe", "estimate": "projection", "figure": "number",
    "reform": "overhaul", "response": "reaction", "programme": "initiative", "package": "bundle",
    "deadline": "cutoff", "request": "appeal", "meeting": "gathering", "assessment": "appraisal",
    "survey": "poll", "inquiry": "examination", "policy": "approach", "strategy": "tactic",
    "people": "individuals", "residents": "inhabitants", "officials": "authorities", "region": "area",
    "highest": "greatest", "level": "degree", "years": "years", "rose": "climbed", "fell": "dropped",
    "showed": "revealed", "cost": "expense", "costs": "expenses", "concern": "worry", "main": "primary",
    "pressure": "strain", "speech": "address", "scenes": "sights", "described": "portrayed",
    "spread": "extended", "across": "throughout", "calling": "pushing", "arguing": "contending",
    "ignored": "overlooked", "reported": "recorded", "talks": "discussions", "local": "regional",
    "experts": "specialists", "warned": "cautioned", "worsen": "deteriorate", "again": "once more",
    "reached": "hit", "earlier": "before", "asked": "questioned", "publish": "release", "footage": "video",
    "online": "on the internet", "near": "close to", "centre": "heart", "evening": "night",
    "households": "homes", "spokesperson": "representative", "conference": "briefing", "weeks": "weeks",
    "dispute": "row", "affected": "impacted", "plans": "schemes", "recorded": "logged", "since": "ever since",
    "neighbouring": "nearby", "districts": "areas", "hours": "hours", "new": "fresh", "more": "additional",
    "would": "will", "could": "might", "about": "roughly", "after": "following", "while": "whereas",
    "also": "additionally", "meanwhile": "in the meantime", "critics": "detractors", "analysts": "observers",
    "expect": "anticipate", "believe": "think", "complained": "grumbled", "media": "press",
}


class Event:
    def __init__(self, rng: random.Random, eid: int):
        self.id = eid
        self.people = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(2)]
        self.place = rng.choice(PLACES)
        self.org = rng.choice(ORGS)
        self.topic, self.kws = rng.choice(TOPICS)
        self.nums = [str(rng.randint(12, 95)), str(rng.randint(120, 4800)), str(rng.randint(3, 11))]
        self.quote = (f"We will not allow {rng.choice(self.kws)} to decide the future of {self.place}, "
                      f"and we will keep working until every {rng.choice(['family', 'worker', 'household'])} "
                      f"is safe")
        self.when = datetime(2025, 3, 1, tzinfo=timezone.utc) + timedelta(days=eid % 20, hours=rng.randint(0, 12))


def _sentence(rng: random.Random, ev: Event, template: str) -> str:
    kws = rng.sample(ev.kws, 3)
    fill = dict(
        P1=ev.people[0], P2=ev.people[1], org=ev.org, place=ev.place, day=rng.choice(DAYS),
        num1=ev.nums[0], num2=ev.nums[1], num3=ev.nums[2], kw1=kws[0], kw2=kws[1], kw3=kws[2],
        verb=rng.choice(VERB_PAST), adj=rng.choice(ADJ), noun=rng.choice(NOUN), noun2=rng.choice(NOUN),
        report=rng.choice(REPORT), Connect=rng.choice(CONNECT), year=str(rng.randint(2009, 2022)),
        month=rng.choice(MONTHS), Quote2=ev.quote,
    )
    s = template.format(**fill)
    return s[0].upper() + s[1:]


SUBJ_B = ("authorities in {place}|{P1}|{org}|a senior aide to {P2}|volunteers|shopkeepers near the main square|"
          "regional governors|independent monitors|engineers|the government's critics|several families|"
          "lawmakers|a diplomat in {place}|union leaders|aid groups|hospital staff|the mayor's office|"
          "commuters|farmers outside {place}|insurance firms").split("|")
VP_B = ("struggled to contain|came under fire over|played down|were weighing curbs on|blamed {P1} for|"
        "called for an inquiry into|were still counting the cost of|pledged {num2} million for|"
        "warned of fresh {kw1} after|handed out {adj} supplies amid|had waited {num3} days for help with|"
        "questioned official figures on|urged calm over|demanded compensation for|kept a {adj} watch on|"
        "published new estimates of|asked the capital for help with|promised a {adj} review of|"
        "counted at least {num1} incidents linked to|raised prices because of").split("|")
OBJ_B = ("the {kw1}|{kw2} in the north|the latest {kw3}|{kw1} and {kw2}|the {adj} {kw3} figures|"
         "{kw2} near {place}|the {kw1} crisis|unreported {kw3}|{kw2} costs|the {kw1} response").split("|")
TAIL_B = ("|, this newspaper has learned| on {day}| late on {day}| since {month}| this year|"
          ", a source said| despite repeated warnings| for the {adj} time|, officials admitted").split("|")


def _sentence_b(rng: random.Random, ev: Event) -> str:
    t = f"{rng.choice(SUBJ_B)} {rng.choice(VP_B)} {rng.choice(OBJ_B)}{rng.choice(TAIL_B)}."
    return _sentence(rng, ev, t)


def write_article(rng: random.Random, ev: Event, n_paras: int, pool=None) -> tuple[str, list[str]]:
    """Title and paragraphs; the event's quote appears once."""
    pool = pool or TEMPLATES
    templates = rng.sample(pool, min(len(pool), n_paras * 2 + 2))
    paras: list[str] = []
    quote_at = rng.randint(1, n_paras - 2)
    for i in range(n_paras):
        k = rng.choice([1, 2, 2, 3])
        if pool is TEMPLATES_B:
            sents = [_sentence_b(rng, ev) for _ in range(k + 1)]
        else:
            sents = [_sentence(rng, ev, templates.pop() if templates else rng.choice(pool)) for _ in range(k)]
        if i == quote_at:
            sents.append(f"\"{ev.quote},\" {ev.people[0]} {rng.choice(REPORT)}.")
        paras.append(" ".join(sents))
    title = (f"{ev.place}: {rng.choice(ADJ).capitalize()} {ev.topic} {rng.choice(NOUN)} as {ev.org} "
             f"{rng.choice(VERB_PAST)} {rng.choice(ev.kws)}")
    return title, paras


def reword(rng: random.Random, paras: list[str], fraction: float = 0.3) -> list[str]:
    """A spinner: synonyms for ~``fraction`` of the words, some clauses moved."""
    out = []
    for p in paras:
        toks = p.split(" ")
        new = []
        for t in toks:
            core = t.strip(".,\"'")
            low = core.lower()
            if low in SYNONYMS and rng.random() < min(1.0, fraction * 2.2):
                rep = SYNONYMS[low]
                if core[:1].isupper():
                    rep = rep[0].upper() + rep[1:]
                t = t.replace(core, rep)
            new.append(t)
        p = " ".join(new)
        # move a trailing "..., X said." clause to the front now and then
        if rng.random() < 0.3 and ", according to " in p:
            head, tail = p.split(", according to ", 1)
            p = f"According to {tail.rstrip('.')}, {head[0].lower()}{head[1:]}."
        out.append(p)
    return out


def build(seed: int = 7, n_bases: int = 48) -> list[dict]:
    rng = random.Random(seed)
    arts: list[dict] = []
    page = [0]

    def add(story, kind, outlet, title, paras, published, canonical=None, base_url=None):
        page[0] += 1
        name, domain = outlet
        slug = "-".join(title.lower().replace(":", "").split()[:6])
        url = f"https://www.{domain}/news/{page[0]}-{slug}"
        arts.append(dict(story=story, kind=kind, url=url, canonical_url=canonical, domain=domain,
                         source_name=name, title=title, text="\n\n".join(paras), published_at=published,
                         base_url=base_url))
        return url

    for b in range(n_bases):
        ev = Event(rng, b)
        outlet = OUTLETS[b % len(OUTLETS)]
        title, paras = write_article(rng, ev, rng.randint(7, 10))
        head, foot = site_boilerplate(*outlet)
        story = f"s{b}"
        base_url = add(story, "base", outlet, title, head + paras + foot, ev.when)
        reps = rng.sample(REPUBLISHERS, 6)
        t = ev.when

        def rep_page(i, body, with_headline=True, reps=reps, title=title):
            h, f = site_boilerplate(*reps[i])
            return ([title] if with_headline else []) + h + body + f

        add(story, "template", reps[0], title, rep_page(0, paras), t + timedelta(hours=2),
            canonical=base_url if b % 2 == 0 else None, base_url=base_url)
        add(story, "attribution", reps[1], title, rep_page(1, paras + [f"Source: {outlet[0]}"]),
            t + timedelta(hours=3), base_url=base_url)
        promo = [f"Download the {reps[2][0]} app today and never miss a story. Subscribe for just 1 dollar a month "
                 f"and get unlimited access to all our premium content, podcasts and daily newsletters."]
        add(story, "footer", reps[2], title, [title] + paras + promo, t + timedelta(hours=4), base_url=base_url)
        half = paras[: max(2, len(paras) // 2)]
        add(story, "truncated", reps[3], title,
            rep_page(3, half + [f"Continue reading at {outlet[1]}"]), t + timedelta(hours=5), base_url=base_url)
        edited = list(paras)
        edited.pop(rng.randrange(1, len(edited)))
        i, j = rng.sample(range(len(edited)), 2)
        edited[i], edited[j] = edited[j], edited[i]
        edited = [p.replace(" the ", " a ", 1) if k % 3 == 0 else p for k, p in enumerate(edited)]
        add(story, "edited", reps[4], title, rep_page(4, edited), t + timedelta(hours=6), base_url=base_url)
        add(story, "reworded", reps[5], title, rep_page(5, reword(rng, paras) + [f"Source: {outlet[0]}"]),
            t + timedelta(hours=7), base_url=base_url)
        # Hard negative: another outlet's own article on the same event (names, numbers, quote shared).
        other = OUTLETS[(b + 3) % len(OUTLETS)]
        t2, p2 = write_article(rng, ev, rng.randint(6, 9), TEMPLATES_B)
        h2, f2 = site_boilerplate(*other)
        add(f"s{b}-ind", "same_event", other, t2, h2 + p2 + f2, t + timedelta(hours=1))
        # Short briefs from one template.
        if b % 2 == 0:
            brief = (f"{ev.place} police said {ev.nums[0]} people were hurt in a {ev.topic}-related incident on "
                     f"{rng.choice(DAYS)}. An investigation is under way.")
            add(f"s{b}-brief", "brief", OUTLETS[(b + 5) % len(OUTLETS)], f"{ev.place} brief", [brief],
                t + timedelta(hours=1))
    return arts


def kinds_of_copies() -> list[str]:
    return ["template", "attribution", "footer", "truncated", "edited", "reworded"]


if __name__ == "__main__":  # pragma: no cover
    for a in build()[:9]:
        print(a["kind"], a["url"])
        print(a["text"][:600], "\n")
