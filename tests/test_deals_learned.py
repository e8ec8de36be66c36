"""The shipped, trained deal pipeline on short articles written for these tests (no article text copied).

What a user notices: a plain deal headline with its lead gives one event with the right parties, figures
and type; an article without a deal gives none; every event says where it comes from and how sure it is.
"""

from __future__ import annotations

import pydantic
import pytest

from extractors.deals import extract_deals, load_pipeline
from extractors.deals.document import make_doc
from extractors.deals.pipeline import BUNDLED_MODEL, statistical_pipeline
from extractors.settings import ExtractionSettings


@pytest.fixture(scope="module")
def nlp():
    return load_pipeline()


def news(nlp, title: str, text: str):
    [events] = extract_deals([(title, text)], nlp=nlp)
    return [e for e in events if not e.background]


def test_acquisition_with_price(nlp):
    events = news(
        nlp,
        "Vetrotech acquisisce Lumina Sistemi per 25 milioni di euro",
        "Vetrotech, società bresciana attiva nell'automazione industriale, ha firmato un accordo vincolante "
        "per acquisire il 100% di Lumina Sistemi, produttore di sensori ottici con sede a Padova. "
        "L'operazione vale 25 milioni di euro e sarà completata entro la fine dell'anno.",
    )
    assert [e.deal_type for e in events] == ["acquisition"]
    [e] = events
    assert e.target == "Lumina Sistemi" and e.acquirer == "Vetrotech"
    assert e.amount == 25_000_000 and e.currency == "EUR"


def test_funding_round_with_lead_investor(nlp):
    events = news(
        nlp,
        "Orbita Labs raccoglie 8 milioni di euro in un round di Serie A",
        "La startup milanese Orbita Labs, che sviluppa software per la logistica, ha chiuso un round di "
        "Serie A da 8 milioni di euro guidato dal fondo Ventura Capital. Le risorse serviranno ad aprire "
        "nuovi uffici in Spagna e in Germania.",
    )
    assert events and events[0].deal_type == "funding_round"
    assert events[0].target == "Orbita Labs" and events[0].amount == 8_000_000


def test_partnership(nlp):
    events = news(
        nlp,
        "Accordo tra Telemar e Nuvola Digitale per il cloud delle piccole imprese",
        "Telemar e Nuvola Digitale hanno siglato una partnership strategica per offrire servizi cloud alle "
        "piccole e medie imprese italiane. L'intesa prevede un'offerta congiunta a partire da gennaio.",
    )
    assert [e.deal_type for e in events] == ["partnership"]
    assert {events[0].acquirer, events[0].target} == {"Telemar", "Nuvola Digitale"}


def test_product_launch_is_no_deal(nlp):
    assert (
        news(
            nlp,
            "Telemar lancia il nuovo smartphone pieghevole",
            "Telemar ha presentato ieri a Milano il suo nuovo smartphone pieghevole, che arriverà nei negozi "
            "a "
            "marzo al prezzo di 999 euro. Secondo l'azienda, il dispositivo ha una batteria più capiente.",
        )
        == []
    )


def test_events_carry_evidence_and_confidence(nlp):
    [events] = extract_deals(
        [
            (
                "Vetrotech acquisisce Lumina Sistemi",
                "Vetrotech ha acquisito Lumina Sistemi, azienda di Padova.",
            )
        ],
        nlp=nlp,
    )
    assert events
    assert all(e.evidence and 0 < e.confidence <= 1 and e.target in e.parties for e in events)


def test_order_kept_and_empty_articles_give_nothing(nlp):
    results = extract_deals([("", ""), (None, "   "), ("Vetrotech acquisisce Lumina Sistemi", "")], nlp=nlp)
    assert len(results) == 3 and results[0] == [] and results[1] == []


def test_the_shipped_model_loads_offline_from_the_package():
    nlp = statistical_pipeline(BUNDLED_MODEL)
    assert "ner" in nlp.component_names and nlp.get_pipe("ner").labels == ("ORG",)
    # the recogniser runs through the lead component, not over the whole article
    assert "dealradar_lead_ner_v1" in nlp.pipe_names and "ner" in nlp.disabled


def _long_article(tail_company: str) -> tuple[str, str]:
    lead = (
        "Vetrotech acquisisce Lumina Sistemi per 12 milioni di euro. "
        "L'operazione è stata firmata ieri a Bologna tra i due gruppi. "
    )
    filler = "Il mercato del vetro tecnico cresce da tre anni in tutta Europa e nei paesi vicini. " * 40
    return (
        "Vetrotech compra Lumina Sistemi",
        lead + filler + f"Anche {tail_company} ha commentato la notizia.",
    )


def test_the_recogniser_reads_the_lead_and_the_rules_read_the_rest(nlp):
    title, text = _long_article("Quarzo Digitale Spa")
    doc = nlp(make_doc(nlp, title, text))
    lead = nlp.get_pipe("dealradar_lead_ner_v1")
    end = lead.lead_end(doc)
    assert end < len(doc)  # a long article: the recogniser stops at the sentence after max_tokens
    assert all(e.end <= end for e in doc.ents if e.label_ == "ORG")
    assert "Lumina Sistemi" in [e.text for e in doc.ents]
    [event] = doc._.deal_events
    assert (event.acquirer, event.target) == ("Vetrotech", "Lumina Sistemi")


def test_known_companies_beyond_the_lead_stay_marked():
    nlp = load_pipeline(ExtractionSettings(aliases={"Quarzo Digitale": []}))
    title, text = _long_article("Quarzo Digitale")
    doc = nlp(make_doc(nlp, title, text))
    assert "Quarzo Digitale" in [e.text for e in doc.ents]


def test_a_model_that_is_not_there_fails_at_config_validation(tmp_path):
    with pytest.raises(pydantic.ValidationError, match="not a trained deal model"):
        ExtractionSettings(model=str(tmp_path / "nowhere"))
    assert ExtractionSettings(model="blank").model == "bundled"  # configs written before the model shipped

