"""The deal pipeline's parts and its public interface: organisation spans, triggers, figures, JSONL I/O."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors.deals import EXTRACTOR_VERSION, extract_jsonl, load_pipeline
from extractors.deals import extract_rule_deals as extract_deals
from extractors.deals.pipeline import make_doc
from extractors.models import DealEvent
from extractors.settings import ExtractionSettings


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


def orgs(nlp, title, text=""):
    doc = nlp(make_doc(nlp, title, text))
    return [s.text for s in doc.spans["org"]]


def one(nlp, title, text=""):
    [events] = extract_deals([(title, text)], nlp=nlp)
    return [e for e in events if not e.background]


# ---- organisation names ------------------------------------------------------------------------------


def test_names_with_cues_suffixes_and_camel_case(nlp):
    found = orgs(
        nlp, "", "Ieri la startup Zampetta, il fondo Ulivo Capital e OpenMind Srl hanno parlato con EnelX."
    )
    found = [f.rstrip(".") for f in found]
    assert "Zampetta" in found and "Ulivo Capital" in found and "EnelX" in found
    assert any(f.startswith("OpenMind") for f in found)


def test_sentence_initial_common_words_are_not_companies(nlp):
    found = orgs(
        nlp,
        "",
        "Secondo gli analisti il mercato cresce. Oggi Fragola Tech annuncia utili. Nel frattempo nulla.",
    )
    assert found == ["Fragola Tech"]


def test_people_places_months_institutions_are_not_companies(nlp):
    text = (
        "Marco Bellini, amministratore delegato, ha incontrato a Milano il Governo e la Consob a marzo. "
        "Il ceo Anna Verdi era presente. Lunedì la Commissione europea decide."
    )
    assert orgs(nlp, "", text) == []


def test_ticker_is_not_a_second_company(nlp):
    [events] = extract_deals(
        [
            (
                "Faro, IPO a Wall Street",
                "Con la sigla FRO è sbarcata al Nasdaq ieri. Il titolo è salito del 20%.",
            )
        ],
        nlp=nlp,
    )
    assert [(e.deal_type, e.target, e.status) for e in events] == [("ipo", "Faro", "completed")]


def test_news_source_is_not_a_party(nlp):
    found = orgs(nlp, "", "Secondo Reuters, Pinguino Spa tratta con Tricheco.")
    assert "Reuters" not in found and "Pinguino Spa" in found and "Tricheco" in found


def test_alias_that_is_a_common_word_needs_more_than_a_capital():
    custom = load_pipeline(ExtractionSettings(aliases={"Intesa Sanpaolo": ["Intesa"]}))
    [events] = extract_deals(
        [("Intesa raggiunta sul contratto dei bancari", "Intesa raggiunta tra sindacati e Abi sul rinnovo.")],
        nlp=custom,
    )
    assert events == []
    [events] = extract_deals(
        [("Fintastica, entra Intesa con il 20%", "Intesa rileva il 20% di Fintastica.")], nlp=custom
    )
    assert [(e.acquirer, e.target) for e in events if not e.background] == [("Intesa Sanpaolo", "Fintastica")]


def test_remembered_names_that_look_like_mistakes_are_not_taught_back():
    custom = load_pipeline(known_companies=["Prodotto", "Milano", "Governo", "OpenAI", "Faro Digitale", ""])
    patterns = {p["pattern"] for p in custom.get_pipe("entity_ruler").patterns}
    assert patterns == {"OpenAI", "Faro Digitale"}


def test_known_companies_and_aliases_win(nlp):
    settings = ExtractionSettings(aliases={"Intesa Sanpaolo": ["ISP"]})
    custom = load_pipeline(settings, known_companies=["Mela Verde"])
    doc = custom(make_doc(custom, "Mela Verde compra il 40% di Pera", "Anche ISP partecipa."))
    names = {s.text: s.label_ for s in doc.spans["org"]}
    assert names["Mela Verde"] == "ORG_KNOWN" and names["ISP"] == "ORG_KNOWN"
    [events] = extract_deals([("Mela Verde compra il 40% di Pera", "")], nlp=custom)
    assert events[0].acquirer == "Mela Verde"


# ---- triggers and roles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "kind", "acquirer", "target"),
    [
        ("Faro acquisisce Scoglio", "acquisition", "Faro", "Scoglio"),
        ("Scoglio è stato rilevato da Faro", "acquisition", "Faro", "Scoglio"),
        ("Scoglio passa nelle mani di Faro", "acquisition", "Faro", "Scoglio"),
        ("L'acquisizione di Scoglio da parte di Faro è ufficiale", "acquisition", "Faro", "Scoglio"),
        ("Faro cede Scoglio a Molo", "acquisition", "Molo", "Scoglio"),
        ("Faro investe 2 milioni in Scoglio", "investment", "Faro", "Scoglio"),
        ("Faro sale al 35% di Scoglio", "investment", "Faro", "Scoglio"),
        ("Scoglio raccoglie 4 milioni da Faro", "funding_round", None, "Scoglio"),
        ("Round da 4 milioni per Scoglio guidato da Faro", "funding_round", "Faro", "Scoglio"),
        ("Partnership tra Faro e Scoglio per la logistica", "partnership", "Faro", "Scoglio"),
        ("Faro si fonde con Scoglio", "merger", "Faro", "Scoglio"),
        ("Fusione per incorporazione di Scoglio in Faro", "merger", "Faro", "Scoglio"),
        ("Scoglio debutta in Borsa a Piazza Affari", "ipo", None, "Scoglio"),
    ],
)
def test_roles_by_construction(nlp, title, kind, acquirer, target):
    [event] = one(nlp, title)
    assert (event.deal_type, event.acquirer, event.target) == (kind, acquirer, target)


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "Tridente lancia un'offerta pubblica di scambio su Nettuno",
            ("acquisition", "Tridente", "Nettuno", "announced"),
        ),
        (
            "Collaborazione strategica tra Sestante e Bussola Software",
            ("partnership", "Sestante", "Bussola Software", "announced"),
        ),
        (
            "Le azioni di Timone sono state ammesse alle negoziazioni su Euronext Growth Milan",
            ("ipo", None, "Timone", "completed"),
        ),
        ("Polena in corsa per acquisire Vela Latina", ("acquisition", "Polena", "Vela Latina", "rumor")),
        (
            "Riporta Bloomberg che Remo sarebbe pronta a comprare Pagaia",
            ("acquisition", "Remo", "Pagaia", "rumor"),
        ),
        (
            "La Commissione Ue approva l'acquisizione di Boa da parte di Faro",
            ("acquisition", "Faro", "Boa", "announced"),
        ),
        ("Picco ha rilevato Vetta Srl", ("acquisition", "Picco", "Vetta", "announced")),
        ("Faro si allea con Scoglio per l'auto elettrica", ("partnership", "Faro", "Scoglio", "announced")),
        ("Faro scommette 50 milioni su Scoglio", ("investment", "Faro", "Scoglio", "announced")),
    ],
)
def test_more_constructions(nlp, title, expected):
    assert [(e.deal_type, e.acquirer, e.target, e.status) for e in one(nlp, title)] == [expected]


@pytest.mark.parametrize("form", ["S.p.A.", "S.a.p.A.", "S.r.L.", "S.r.l.", "SpA"])
def test_a_legal_form_ends_no_sentence(nlp, form):
    text = f"Il gruppo Gamma {form} ha rilevato Delta {form}, startup di Torino, per 5 milioni di euro."
    doc = nlp(make_doc(nlp, "Operazione nel Nord-Ovest", text))
    assert [s.text for s in doc.sents if "Gamma" in s.text] == [text]


@pytest.mark.parametrize("form", ["S.p.A.", "S.r.l.", "SpA"])
def test_the_buyer_before_a_legal_form_is_found(nlp, form):
    """The rules and the learned pipeline read the buyer, and the name stays whole ("Gamma S.p" was a
    party when S.p.A. was cut in three)."""
    text = f"Il gruppo Gamma {form} ha rilevato Delta {form}, startup di Torino, per 5 milioni di euro."
    [event] = one(nlp, "Operazione nel Nord-Ovest", text)
    assert (event.acquirer, event.target, event.amount) == ("Gamma", "Delta", 5_000_000)
    assert sorted(event.parties) == ["Delta", "Gamma"]
    [learned] = load_and_extract(nlp, "Operazione nel Nord-Ovest", text)
    assert (learned.acquirer, learned.target) == ("Gamma", "Delta")
    assert sorted(learned.parties) == ["Delta", "Gamma"]
    assert learned.evidence == text


def test_a_legal_form_at_a_sentence_end_still_ends_it(nlp):
    text = "Delta è stata ceduta a Gamma S.p.A. Il closing è previsto a marzo."
    doc = nlp(make_doc(nlp, "", text))
    assert [s.text.strip() for s in doc.sents] == [
        "Delta è stata ceduta a Gamma S.p.A.",
        "Il closing è previsto a marzo.",
    ]


def test_text_read_once_is_the_text_of_every_part(nlp):
    """Components cut sentence and figure text from the Doc's text joined once (`text_of`): the same
    strings spaCy's `.text` gives, headline, sentences and clauses alike, and on a Doc made elsewhere."""
    from extractors.deals.document import text_of

    made = nlp(make_doc(nlp, "Gamma compra Delta", "Gamma  ha rilevato Delta.\n\nIl closing a  marzo.  "))
    plain = nlp("Alfa cede il 20% di Beta a Gamma per 3 milioni.  ")
    for doc in (made, plain):
        assert text_of(doc) == doc.text
        parts = [*doc.sents, doc[0:1], doc[1:4], doc[len(doc) - 1 :], doc[2:2]]
        assert [text_of(part) for part in parts] == [part.text for part in parts]


def test_word_counts_of_sentences_come_from_one_running_count(nlp):
    """A heading of fewer than four words does not push the lead down: the count of words per sentence
    (`alphabetic_words`) is spaCy's `is_alpha` count, for every sentence and an empty span."""
    from extractors.deals.document import alphabetic_words

    body = "In breve\n\nGamma ha rilevato il 20% di Delta per 3,5 milioni. 12 , 34."
    doc = nlp(make_doc(nlp, "Gamma compra Delta", body))
    for part in [*doc.sents, doc[0:0], doc[:]]:
        assert alphabetic_words(part) == sum(t.is_alpha for t in part)
    counts = {s.text.strip(): alphabetic_words(s) for s in doc.sents if s.text.strip()}
    assert (counts["Gamma compra Delta"], counts["In breve"], counts["12 , 34."]) == (3, 2, 0)


def load_and_extract(nlp, title, text):
    from extractors.deals import extract_deals as extract_learned

    [events] = extract_learned([(title, text)], nlp=nlp)
    return [e for e in events if not e.background]


def test_post_money_valuation(nlp):
    [event] = one(nlp, "Scafo raccoglie 40 milioni di euro con una valutazione post-money di 400 milioni")
    assert (event.amount, event.valuation, event.currency) == (40_000_000, 400_000_000, "EUR")


@pytest.mark.parametrize(
    "title",
    ["Borsa, la quotazione di Faro scende del 5%", "Faro, quotazione in calo a Piazza Affari dopo i conti"],
)
def test_share_price_moves_are_not_listings(nlp, title):
    assert one(nlp, title) == []


def test_acquisition_of_a_minority_stake_is_an_investment(nlp):
    [event] = one(nlp, "Faro rileva il 20% di Scoglio per 5 milioni di euro")
    assert event.deal_type == "investment" and event.stake_pct == 20 and event.amount == 5_000_000


def test_majority_stake_is_an_acquisition(nlp):
    [event] = one(nlp, "Faro rileva il 70% di Scoglio")
    assert event.deal_type == "acquisition" and event.stake_pct == 70


# ---- figures, status, flags ---------------------------------------------------------------------------


def test_amount_in_units_and_currency(nlp):
    [event] = one(nlp, "Faro compra Scoglio per 1,1 mld $")
    assert event.amount == pytest.approx(1.1e9) and event.currency == "USD"


def test_headline_rounding_gives_way_to_the_exact_body_figure(nlp):
    [event] = one(
        nlp,
        "Faro compra Scoglio per 15 miliardi",
        "Faro ha concordato l'acquisto di Scoglio per 14,8 miliardi di dollari.",
    )
    assert event.amount == pytest.approx(14.8e9) and event.currency == "USD"


def test_valuation_is_not_the_deal_amount(nlp):
    [event] = one(nlp, "Scoglio raccoglie 30 milioni di euro con una valutazione di 300 milioni")
    assert event.amount == 30_000_000 and event.valuation == 300_000_000


def test_share_price_is_not_the_deal_amount(nlp):
    [event] = one(nlp, "Faro lancia un'opa su Scoglio a 1,60 euro per azione")
    assert event.amount is None


def test_inconsistent_valuation_is_flagged_but_figures_kept(nlp):
    [event] = one(
        nlp,
        "Faro investe 14,8 miliardi di dollari in Scoglio per il 49%",
        "L'operazione valuta Scoglio 28 miliardi di dollari, secondo una valutazione di 28 miliardi.",
    )
    assert event.stake_pct == 49 and event.amount == pytest.approx(14.8e9)
    assert event.valuation == pytest.approx(28e9) and "inconsistent_valuation" in event.flags


def test_consistent_valuation_is_not_flagged(nlp):
    [event] = one(nlp, "Faro investe 10 milioni di euro in Scoglio per il 20%, valutazione di 50 milioni")
    assert event.flags == []


@pytest.mark.parametrize(
    ("title", "status"),
    [
        ("Faro sarebbe in trattativa per acquisire Scoglio", "rumor"),
        ("Secondo indiscrezioni Faro potrebbe comprare Scoglio", "rumor"),
        ("Faro acquisisce Scoglio", "announced"),
        ("Faro ha perfezionato l'acquisizione di Scoglio", "completed"),
        ("Faro acquisisce Scoglio, closing entro giugno", "announced"),
        ("Completata l'acquisizione di Scoglio da parte di Faro", "completed"),
    ],
)
def test_status(nlp, title, status):
    [event] = one(nlp, title)
    assert event.status == status


def test_every_event_has_evidence_and_confidence(nlp):
    [events] = extract_deals(
        [("Faro acquisisce Scoglio", "Il contratto è stato firmato ieri a Genova.")], nlp=nlp
    )
    assert events and all(e.evidence and 0 < e.confidence <= 1 for e in events)
    assert events[0].evidence == "Faro acquisisce Scoglio"


def test_body_deal_of_a_profile_is_background(nlp):
    text = (
        "Faro è nata nel 2010 a Genova. Produce lanterne e vende in tutta Europa. Ha 300 dipendenti. "
        "I suoi prodotti sono noti. Il fatturato cresce. Nel 2016 Faro aveva acquisito Scoglio."
    )
    [events] = extract_deals([("La storia di Faro, le lanterne italiane", text)], nlp=nlp)
    assert all(e.background for e in events)


# ---- interface ------------------------------------------------------------------------------------------


def test_extract_deals_keeps_order_and_handles_empty_input(nlp):
    docs = [
        ("Faro acquisisce Scoglio", ""),
        (None, ""),
        ("Notizie dal mondo", "Piove a Roma."),
        (None, "Molo raccoglie 3 milioni di euro da Faro Ventures."),
    ]
    results = extract_deals(docs, nlp=nlp, batch_size=2)
    assert len(results) == 4
    assert results[0][0].target == "Scoglio" and results[1] == [] and results[2] == []
    assert results[3][0].target == "Molo"
    assert all(isinstance(e, DealEvent) for r in results for e in r)


def test_same_pipeline_gives_same_results_on_reuse(nlp):
    docs = [("Faro acquisisce Scoglio per 3 milioni di euro", "")] * 3
    first = extract_deals(docs, nlp=nlp)
    again = extract_deals(docs, nlp=nlp)
    assert [[e.to_dict() for e in r] for r in first] == [[e.to_dict() for e in r] for r in again]


def test_extract_jsonl_reports_bad_lines_and_keeps_going(nlp, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "title": "Faro acquisisce Scoglio", "text": "Firmato ieri."}),
                "{not json",
                json.dumps({"id": "c", "title": "x"}),
                json.dumps([1, 2]),
                json.dumps({"id": "e", "title": None, "text": "Nessuna notizia."}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    stats = extract_jsonl(src, out, nlp=nlp)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, "c", None, "e"]
    assert rows[0]["events"][0]["target"] == "Scoglio" and "error" not in rows[0]
    assert "line 2" in rows[1]["error"] and rows[1]["events"] == []
    assert "text" in rows[2]["error"] and "line 4" in rows[3]["error"]
    assert rows[4]["events"] == []
    assert stats == {"articles": 5, "events": 1, "errors": 3}


def test_huge_article_is_cut_not_fatal(nlp):
    body = "Faro ha acquisito Scoglio per 3 milioni di euro. " + "Il mercato cresce senza sosta. " * 80_000
    [events] = extract_deals([("Faro acquisisce Scoglio", body)], nlp=nlp)
    assert [e.target for e in events if not e.background] == ["Scoglio"]


def test_site_name_after_the_headline_is_not_a_party(nlp):
    [event] = one(nlp, "Faro compra Scoglio per 3 milioni di euro | Corriere Innovazione")
    assert event.parties == ["Faro", "Scoglio"]
    [event] = one(nlp, "Accordo tra Faro e Scoglio - Il Post")
    assert event.parties == ["Faro", "Scoglio"]


@pytest.mark.parametrize(
    "title",
    [
        "Groqqo Acquisisce La Startup Zentrix Per 20 Milioni Di Euro",
        "GROQQO ACQUISISCE ZENTRIX PER 20 MILIONI",
    ],
)
def test_title_case_and_upper_case_headlines(nlp, title):
    [event] = one(nlp, title)
    assert (event.deal_type, event.acquirer, event.target) == ("acquisition", "Groqqo", "Zentrix")


def test_version_is_exposed():
    assert EXTRACTOR_VERSION.startswith("deals-")


_WORDS = st.sampled_from(
    [
        "Faro",
        "acquisisce",
        "il",
        "30%",
        "di",
        "Scoglio",
        "per",
        "2",
        "milioni",
        "di",
        "euro",
        ",",
        ".",
        ":",
        "(",
        ")",
        "e",
        "da",
        "in",
        "raccoglie",
        "round",
        "guidato",
        "accordo",
        "tra",
        "fusione",
        "IPO",
        "quotazione",
        "Borsa",
        "\n",
        "\n\n",
        "non",
        "sarebbe",
        "L'",
        "l'",
        "1,5",
        "mld",
        "$",
        "€",
        "-",
        "–",
        "'",
        "’",
        "«",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=st.one_of(st.none(), st.text(max_size=80)), words=st.lists(_WORDS, max_size=60), noise=st.text())
def test_never_raises_on_odd_input(nlp, title, words, noise):
    [events] = extract_deals([(title, " ".join(words) + noise)], nlp=nlp)
    for e in events:
        assert e.target and e.deal_type in {
            "acquisition",
            "investment",
            "funding_round",
            "partnership",
            "merger",
            "ipo",
        }
        assert e.stake_pct is None or 0 < e.stake_pct <= 100


def test_extract_jsonl_streams_many_lines_in_order(nlp, tmp_path):
    src = tmp_path / "many.jsonl"
    lines = [json.dumps({"id": i, "title": f"Faro{i} acquisisce Scoglio{i}", "text": ""}) for i in range(600)]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    stats = extract_jsonl(src, out, nlp=nlp)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == list(range(600)) and stats["articles"] == 600
    # each line's events are its own (the recogniser is statistical: on these bare headlines it takes the
    # whole "FaroN acquisisce ScoglioN" for one name on 2 of 600, so the target is checked where it is found)
    right = sum(r["events"][0]["target"] == f"Scoglio{r['id']}" for r in rows if r["events"])
    assert right >= 590
    assert all(str(r["id"]) in r["events"][0]["target"] for r in rows if r["events"])


def test_vocabulary_cache_is_rebuilt_when_missing_or_corrupt(tmp_path, monkeypatch):
    from extractors.deals import lexicon

    monkeypatch.setenv("DEALRADAR_CACHE_DIR", str(tmp_path))
    lexicon.italian_vocabulary.cache_clear()
    try:
        built = lexicon.italian_vocabulary()
        (cached,) = tmp_path.glob("it_vocabulary-*.npy")
        assert {"acquisizione", "milano", "il"} <= {w for w in ("acquisizione", "milano", "il") if w in built}
        assert "zqxwvy" not in built and 12 not in built
        cached.write_bytes(b"not numpy at all")
        lexicon.italian_vocabulary.cache_clear()
        rebuilt = lexicon.italian_vocabulary()
        assert len(rebuilt) == len(built) > 400_000 and "acquisizione" in rebuilt
    finally:
        lexicon.italian_vocabulary.cache_clear()


# ---- cheap work first, compact lemmas --------------------------------------------------------------------


def _cheap_parse(nlp, title, text):
    from extractors.deals.pipeline import COSTLY_FROM

    names = nlp.pipe_names
    with nlp.select_pipes(enable=names[: names.index(COSTLY_FROM)]):
        return nlp(make_doc(nlp, title, text))


def test_articles_without_deal_words_or_money_skip_the_costly_components(nlp):
    from extractors.deals import extract_deals as extract_with_assigner
    from extractors.deals.pipeline import worth_extracting

    deal = ("Faro Robotica acquisisce Scoglio Sensori",
            "Faro Robotica ha rilevato il 100% di Scoglio Sensori per 12 milioni di euro. "
            "L'operazione si chiuderà entro marzo.")  # fmt: skip
    weather = ("Pioggia al nord, sole al sud",
               "Nel fine settimana Lucania Meteo prevede temporali sulle Alpi "
               "e temperature miti lungo le coste del Tirreno.")  # fmt: skip
    money_only = ("Il prezzo del nuovo telefono", "Il modello di Lampone Mobile costerà 899 euro nei negozi.")
    assert worth_extracting(_cheap_parse(nlp, *deal))
    assert not worth_extracting(_cheap_parse(nlp, *weather))
    assert worth_extracting(_cheap_parse(nlp, *money_only))  # a figure alone is enough to look closer
    found = extract_with_assigner([deal, weather, money_only, deal], nlp=nlp)
    assert [e.target for e in found[0]] == ["Scoglio Sensori"] and found[3] == found[0]
    assert found[1] == []


def test_lemmas_are_those_of_spacys_lookup_lemmatizer(nlp):
    import spacy

    reference = spacy.blank("it")
    reference.add_pipe("lemmatizer", config={"mode": "lookup"}).initialize()
    text = ("Le società acquisirono quote mentre gli investitori vendevano azioni; Zxqwerty raccoglie "
            "fondi e cederà la partecipazione. Acquisisce, comprò, rilevata, fusioni.")  # fmt: skip
    ours = nlp.get_pipe("lemmatizer")(nlp.make_doc(text))
    theirs = reference(nlp.make_doc(text))
    assert [t.lemma_ for t in ours] == [t.lemma_ for t in theirs]
    assert ours[2].lemma_ == "acquisire"


def test_a_lemma_already_set_is_kept_and_capitals_are_looked_up_in_lower_case(nlp):
    doc = nlp.make_doc("Acquisisce Zentrix. Vendevano Quote e ACQUISISCE")
    doc[1].lemma_ = "zentrix spa"  # set before: an entity ruler or a user's component
    nlp.get_pipe("lemmatizer")(doc)
    assert [t.lemma_ for t in doc][:3] == ["Acquisisce", "zentrix spa", "."]  # the table is case-sensitive
    case = next(name for name in nlp.pipe_names if "lemma_case" in name)
    nlp.get_pipe(case)(doc)
    assert [t.lemma_ for t in doc] == ["acquisire", "zentrix spa", ".", "vendere", "quota", "e", "acquisire"]


def test_lemma_cache_is_rebuilt_when_missing_or_corrupt(tmp_path, monkeypatch):
    from extractors.deals import lemmas

    monkeypatch.setenv("DEALRADAR_CACHE_DIR", str(tmp_path))
    lemmas.lemma_table.cache_clear()
    try:
        built = lemmas.lemma_table()
        (cached,) = tmp_path.glob("it_lemmas-*.npz")
        assert built.get("acquisirono") == "acquisire" and built.get("zqxwvy") is None
        cached.write_bytes(b"not numpy at all")
        lemmas.lemma_table.cache_clear()
        rebuilt = lemmas.lemma_table()
        assert len(rebuilt.keys) == len(built.keys) > 300_000 and rebuilt.get("vendevano") == "vendere"
    finally:
        lemmas.lemma_table.cache_clear()


# ---- deal triggers ----------------------------------------------------------------------------------------

TRIGGER_SENTENCES = [
    "Faro acquisisce Scoglio.",  # a lemma pattern at the second token
    "Acquisizione",  # a one-token article
    "Il gruppo Vela lancia un'offerta pubblica di acquisto su Remo, che passa sotto il controllo di Vela",
    "Dopo mesi di trattative la società è passata nelle mani di Ancora e si è aggiudicata l'asta",
    "Molo ha raccolto 3 milioni in un round di serie A; la raccolta segue un aumento di capitale",
    "Prora e Poppa firmano un contratto di fornitura e una joint venture: nozze in vista? Ipo",
    "Nessuna notizia oggi, solo il meteo di Genova e le partite di calcio.",
]


@pytest.mark.parametrize("text", TRIGGER_SENTENCES)
def test_trigger_windows_find_what_the_whole_document_matcher_finds(nlp, text):
    finder = nlp.get_pipe("dealradar_triggers_v1")
    doc = nlp(make_doc(nlp, None, text))
    everywhere = sorted((s.start, s.end, s.label_) for s in finder.matcher(doc, as_spans=True))
    windowed = sorted(
        (s.start, s.end, s.label_) for w in finder.windows(doc) for s in finder.matcher(w, as_spans=True)
    )
    assert windowed == everywhere
    if "Nessuna notizia" not in text:
        assert everywhere, "each of these sentences holds a trigger"
    assert sum(len(w) for w in finder.windows(doc)) < len(doc) or len(doc) <= finder.longest


def test_trigger_filter_lets_every_token_through_when_a_pattern_can_open_anywhere():
    from extractors.deals.triggers import FirstTokenFilter

    assert not FirstTokenFilter([[{"LOWER": "fusione"}]]).any_token
    assert FirstTokenFilter([[{"LOWER": "si", "OP": "?"}, {"LEMMA": "fondere"}]]).any_token
    assert FirstTokenFilter([[{"LOWER": "round"}, {"IS_ALPHA": True, "OP": "+"}]]).any_token
    assert FirstTokenFilter([[{"LIKE_NUM": True}, {"LOWER": "milioni"}]]).any_token
