"""Italian money, number and percentage parsing (extractors.deals.money).

All sentences are written for these tests (varied Italian news wording), none is taken from the dev set.
"""

from __future__ import annotations

import math

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc

from extractors.deals.money import Amount, find_amounts, find_percentages, infer_currency, parse_number


def _values(text: str, default_currency: str | None = None) -> list[tuple[float, str | None]]:
    return [(a.value, a.currency) for a in find_amounts(text, default_currency)]


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _assert_values(text: str, expected: list[tuple[float, str | None]]) -> None:
    got = _values(text)
    assert len(got) == len(expected), (text, got)
    for (value, currency), (want_value, want_currency) in zip(got, expected, strict=True):
        assert _close(value, want_value), (text, got)
        assert currency == want_currency, (text, got)


# ---------------------------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("14,8", 14.8),
        ("1.200.000", 1_200_000),
        ("1.200", 1200),
        ("10.000", 10_000),
        ("1.5", 1.5),
        ("0,25", 0.25),
        ("1.200,50", 1200.5),
        ("1,200,000", 1_200_000),
        ("1,200.75", 1200.75),
        ("1,200", 1.2),
        ("1'250'000", 1_250_000),
        ("2022", 2022),
        (" 7,3 ", 7.3),
        ("venti", 20),
        ("Trenta", 30),
        ("ventuno", 21),
        ("trentotto", 38),
        ("duecentocinquanta", 250),
        ("cento", 100),
        ("mille", 1000),
        ("tremila", 3000),
        ("mezzo", 0.5),
    ],
)
def test_parse_number_reads_italian_figures(token: str, expected: float) -> None:
    value = parse_number(token)
    assert value is not None and _close(value, expected)


@pytest.mark.parametrize("token", ["", "abc", "1e5", "-3", "1,2,3,4.5.6", "12a", "€", "9" * 400, "settembre"])
def test_parse_number_rejects_non_numbers(token: str) -> None:
    assert parse_number(token) is None


# ---------------------------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il gruppo ha messo sul piatto 15 miliardi per la rete.", [(15e9, None)]),
        ("L'offerta vale 14,8 miliardi di dollari.", [(14.8e9, "USD")]),
        ("La startup torinese chiude un round da 7,3 milioni di euro.", [(7.3e6, "EUR")]),
        ("Un seed da 500mila euro per la app di Bari.", [(500e3, "EUR")]),
        ("Un pre-seed da 500 mila euro guidato da business angel.", [(500e3, "EUR")]),
        ("Operazione da 1,1 mld $ nel settore dei chip.", [(1.1e9, "USD")]),
        ("Il fondo ha investito € 70 mln nella piattaforma.", [(70e6, "EUR")]),
        ("Il bond da 70 mln di euro è stato collocato.", [(70e6, "EUR")]),
        ("Un finanziamento da 3 mln per crescere in Spagna.", [(3e6, None)]),
        ("Il veicolo ha raccolto 2,5 miliardi di sterline.", [(2.5e9, "GBP")]),
        ("Il colosso ha pagato un miliardo per la società.", [(1e9, None)]),
        ("Il chipmaker spende venti miliardi di dollari.", [(20e9, "USD")]),
        ("Offerta da cinquanta milioni di euro.", [(50e6, "EUR")]),
        ("Ceduta per 1.200.000 euro la divisione software.", [(1.2e6, "EUR")]),
        ("Il round è di 1,2 milioni.", [(1.2e6, None)]),
        ("Klarna colloca bond per €1.5bn sul mercato.", [(1.5e9, "EUR")]),
        ("The company raised $2 billion last year.", [(2e9, "USD")]),
        ("A facility of USD 300 million was signed.", [(300e6, "USD")]),
        ("Il gruppo di Zugo paga 600 milioni di franchi svizzeri.", [(600e6, "CHF")]),
        ("SoftBank mette 900 miliardi di yen nel fondo.", [(900e9, "JPY")]),
        ("Un accordo da 40 miliardi di yuan con Pechino.", [(40e9, "CNY")]),
        ("La banca statale presta 12 miliardi di renminbi.", [(12e9, "CNY")]),
        ("Un contratto da 300 milioni EUR per le reti.", [(300e6, "EUR")]),
        ("Il piano vale EUR 2 miliardi.", [(2e9, "EUR")]),
        ("L'azienda incassa 40 milioni di Euro dalla cessione.", [(40e6, "EUR")]),
        ("Incassati 40 milioni d'euro dalla vendita.", [(40e6, "EUR")]),
        ("Ha raccolto 5 milioni di dollari USA.", [(5e6, "USD")]),
        ("Ha raccolto 5 milioni di dollari americani.", [(5e6, "USD")]),
        ("Il fondo canadese investe 80 milioni di dollari canadesi.", [(80e6, "CAD")]),
        ("Un round da £ 12 milioni per la fintech londinese.", [(12e6, "GBP")]),
        ("Il gruppo di Mumbai investe 2.000 miliardi di rupie.", [(2000e9, "INR")]),
        ("Northvolt ottiene 5 miliardi di corone svedesi.", [(5e9, "SEK")]),
        ("Equinor spende 3 miliardi di corone norvegesi.", [(3e9, "NOK")]),
        ("Il porto danese riceve 700 milioni di corone danesi.", [(700e6, "DKK")]),
        ("Ha raccolto 2 milioni di corone.", [(2e6, None)]),
        ("OpenAI compra la startup per 1,1B$.", [(1.1e9, "USD")]),
        ("L'azienda di Sydney è stata ceduta per 610M$.", [(610e6, "USD")]),
        ("Round da $40M per la startup di robotica.", [(40e6, "USD")]),
        ("Valutata 3 bilioni di dollari.", [(3e12, "USD")]),
        ("Nel 1999 la banca fu venduta per 3.000 miliardi di lire.", [(3000e9, "ITL")]),
        ("Una capitalizzazione superiore al miliardo di dollari.", [(1e9, "USD")]),
        ("Un affare da un miliardo e mezzo di euro.", [(1.5e9, "EUR")]),
        ("Il prezzo pattuito è di un miliardo e 200 milioni di euro.", [(1.2e9, "EUR")]),
        ("Mezzo miliardo di dollari per i data center.", [(0.5e9, "USD")]),
        ("La spesa è di un paio di miliardi.", [(2e9, None)]),
        ("Un'operazione da una decina di milioni di euro.", [(10e6, "EUR")]),
        ("La società, che vale 28 miliardi.", [(28e9, None)]),
        ("Ha raccolto 340 milioni di finanziamenti da banche.", [(340e6, None)]),
        ("Ricavi per 183,71 milioni di euro e 25 milioni di utile.", [(183.71e6, "EUR"), (25e6, None)]),
        ("Il ticket costa 45 euro.", [(45.0, "EUR")]),
    ],
)
def test_find_amounts_reads_value_and_currency(text: str, expected: list[tuple[float, str | None]]) -> None:
    _assert_values(text, expected)


def test_amount_offsets_cover_figure_scale_and_currency() -> None:
    text = "Secondo fonti vicine, Alfa pagherà oltre 14,8 miliardi di dollari per il 49% di Beta."
    [amount] = find_amounts(text)
    assert amount.text == "14,8 miliardi di dollari"
    assert text[amount.start: amount.end] == amount.text
    assert amount.scaled is True


def test_sentence_final_period_is_not_part_of_the_amount() -> None:
    [amount] = find_amounts("La società è valutata 28 miliardi. Il resto è storia.")
    assert amount.text == "28 miliardi"


def test_abbreviation_dot_before_di_euro_is_kept() -> None:
    [amount] = find_amounts("Un prestito da 3 mln. di euro.")
    assert amount.text == "3 mln. di euro" and amount.currency == "EUR"


def test_prefix_currency_wins_over_suffix_currency() -> None:
    [amount] = find_amounts("Un deal da $ 5 milioni di euro (sic).")
    assert amount.currency == "USD"


# ---------------------------------------------------------------------------------------------- modifiers


@pytest.mark.parametrize(
    ("text", "approx"),
    [
        ("Il gruppo ha raccolto oltre 33 miliardi dagli investitori.", True),
        ("Un round da 260 milioni guidato da fondi americani.", False),
        ("L'operazione vale circa 5 milioni di euro.", True),
        ("L'operazione vale 5 milioni di euro circa.", True),
        ("Ha raccolto quasi 2 miliardi di dollari.", True),
        ("Ha raccolto più di 3 milioni di euro.", True),
        ("Potrà investire fino a 4 milioni di euro.", True),
        ("Il valore dovrebbe aggirarsi intorno ai 17 miliardi di dollari.", True),
        ("La cifra si attesta attorno ai 90 milioni.", True),
        ("Il fondo ha almeno 300 milioni in gestione.", True),
        ("Una dote superiore ai 50 milioni di euro.", True),
        ("Sierra è stata ceduta per 1,5 miliardi.", False),
        ("Il prezzo è di 12 milioni di euro.", False),
        ("The deal is worth over $3 billion.", True),
        ("Il valore si aggira sui 20 milioni.", True),
    ],
)
def test_approx_flag_follows_italian_modifiers(text: str, approx: bool) -> None:
    [amount] = find_amounts(text)
    assert amount.approx is approx, text


def test_modifier_is_not_part_of_the_span() -> None:
    [amount] = find_amounts("Ha raccolto oltre 33 miliardi.")
    assert amount.text == "33 miliardi"


# ---------------------------------------------------------------------------------------------- ranges


def test_tra_x_e_y_is_one_range_with_lower_bound_as_value() -> None:
    [amount] = find_amounts("La valutazione sarebbe tra 2 e 3 milioni di euro.")
    assert amount.value == 2e6 and amount.high == 3e6
    assert amount.currency == "EUR" and amount.approx is True
    assert amount.text == "2 e 3 milioni di euro"


def test_range_with_articles_carries_scale_and_currency() -> None:
    [amount] = find_amounts("Il prezzo finale è compreso tra i 10 e i 15 milioni di dollari.")
    assert (amount.value, amount.high, amount.currency) == (10e6, 15e6, "USD")


def test_hyphen_range_and_prefix_currency() -> None:
    [amount] = find_amounts("Un round atteso da € 10-15 milioni.")
    assert (amount.value, amount.high, amount.currency) == (10e6, 15e6, "EUR")


def test_range_of_number_words() -> None:
    [amount] = find_amounts("Il pacchetto vale fra due e tre miliardi di dollari.")
    assert (amount.value, amount.high, amount.currency) == (2e9, 3e9, "USD")


def test_range_between_thousands_and_millions() -> None:
    [amount] = find_amounts("Un ticket tra 500mila e 1 milione di euro per ogni startup.")
    assert (amount.value, amount.high, amount.currency) == (500e3, 1e6, "EUR")


def test_da_x_a_y_gives_two_amounts_with_shared_scale() -> None:
    amounts = find_amounts("Il fatturato è passato da 10 a 15 milioni di euro.")
    assert [(a.value, a.currency, a.high) for a in amounts] == [(10e6, "EUR", None), (15e6, "EUR", None)]
    assert amounts[0].text == "10"


def test_listed_figures_share_the_scale() -> None:
    amounts = find_amounts("Le due tranche sono rispettivamente di 9,4 e 11,1 milioni.")
    assert [a.value for a in amounts] == pytest.approx([9.4e6, 11.1e6])
    assert all(a.high is None for a in amounts)


def test_year_before_e_does_not_take_the_scale() -> None:
    amounts = find_amounts("Nel 2019 e 3 milioni di euro dopo, la società ha chiuso.")
    assert _values("Nel 2019 e 3 milioni di euro dopo, la società ha chiuso.") == [(3e6, "EUR")]
    assert amounts[0].text == "3 milioni di euro"


def test_share_price_range_in_dollars() -> None:
    [amount] = find_amounts("La forchetta di prezzo è 30-34 dollari.")
    assert (amount.value, amount.high, amount.currency, amount.scaled) == (30.0, 34.0, "USD", False)


# ---------------------------------------------------------------------------------------------- not money


@pytest.mark.parametrize(
    "text",
    [
        "Nel 2022 in Italia ci sono state 26 IPO.",
        "L'accordo è stato firmato il 7 gennaio a Milano.",
        "Per informazioni chiamare il numero +39 02 1234 5678.",
        "Oggi in Italia operano oltre 10.000 startup innovative.",
        "L'azienda conta 500 dipendenti in quattro sedi.",
        "Il fatturato è cresciuto 3 volte in due anni.",
        "La società prepara un round di Serie B.",
        "Il nuovo modello GPT-4.5 è stato presentato ieri.",
        "La piattaforma ha 250 milioni di utenti attivi.",
        "La banca emette 3 milioni di nuove azioni.",
        "La città conta 500mila abitanti.",
        "Il modello da 70B parametri gira su una sola GPU.",
        "Il titolo ha guadagnato il 12% in Borsa.",
        "Oltre un miliardo di persone usa l'app ogni mese.",
        "Il 5G arriverà in 4 città entro il 2025.",
        "Sono state vendute 15 milioni di copie del gioco.",
        "Il COVID-19 ha colpito il settore nel 2020.",
        "Il tasso è salito di 3 punti percentuali.",
    ],
)
def test_counts_dates_and_codes_are_not_amounts(text: str) -> None:
    assert find_amounts(text) == [], text


# ---------------------------------------------------------------------------------------------- prices


@pytest.mark.parametrize(
    "text",
    [
        "L'offerta è di 1,60 euro per azione.",
        "Gli azionisti riceveranno 3 euro ad azione.",
        "Un prezzo per azione di 2,15 euro.",
        "Il corrispettivo è pari a 0,85 euro per ciascuna azione.",
        "The buyer pays $24 per share.",
    ],
)
def test_share_prices_are_flagged_per_share(text: str) -> None:
    [amount] = find_amounts(text)
    assert amount.per_share is True


def test_product_price_is_an_unscaled_amount_not_per_share() -> None:
    [amount] = find_amounts("Il nuovo smartphone costa 999 euro.")
    assert (amount.value, amount.currency, amount.per_share, amount.scaled) == (999.0, "EUR", False, False)


def test_deal_amount_next_to_share_price_keeps_its_flags() -> None:
    amounts = find_amounts("L'OPA vale 2,3 miliardi di euro, pari a 1,60 euro per azione.")
    assert [(a.value, a.per_share, a.scaled) for a in amounts] == [(2.3e9, False, True), (1.6, True, False)]


# ------------------------------------------------------------------------------------ default currency


def test_default_currency_fills_only_unstated_currencies() -> None:
    text = "Un round da 15 milioni, dopo i 3 milioni di dollari del seed."
    amounts = find_amounts(text, default_currency="EUR")
    assert [(a.currency, a.currency_inferred) for a in amounts] == [("EUR", True), ("USD", False)]


def test_ambiguous_currency_word_is_not_replaced_by_default() -> None:
    [amount] = find_amounts("Ha raccolto 2 milioni di corone.", default_currency="EUR")
    assert amount.currency is None and amount.currency_inferred is False


# ---------------------------------------------------------------------------------------------- percentages


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Il gruppo rileva il 49% della startup.", [49.0]),
        ("Una quota pari al 49 % del capitale.", [49.0]),
        ("Acquisita una quota del 5,7 per cento.", [5.7]),
        ("Il fondo sale al 43,474% del capitale.", [43.474]),
        ("Ha acquistato il 100 per cento delle azioni.", [100.0]),
        ("Possiede il cinquanta per cento della joint venture.", [50.0]),
        ("Un premio di oltre il 20% sul prezzo di Borsa.", [20.0]),
        ("Rileva la metà del capitale della società.", [50.0]),
        ("Compra un terzo delle azioni e poi due terzi delle quote.", pytest.approx([100 / 3, 200 / 3])),
        ("Una quota tra il 10 e il 15% del capitale.", [10.0, 15.0]),
        ("Una quota del 10-15%.", [10.0, 15.0]),
        ("Stake of 30 percent.", [30.0]),
        ("Il titolo ha perso il 3,5 percento.", [3.5]),
    ],
)
def test_find_percentages(text: str, expected: list[float]) -> None:
    assert [p.value for p in find_percentages(text)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Il tasso è salito di 3 punti percentuali.",
        "Il nuovo GPT-4 costa meno.",
        "La metà dei dipendenti lavora da remoto.",
        "Ha raccolto 49 milioni di euro.",
    ],
)
def test_non_percentages(text: str) -> None:
    assert find_percentages(text) == []


def test_percentage_offsets() -> None:
    text = "Alfa sale al 43,474% del capitale."
    [pct] = find_percentages(text)
    assert pct.text == "43,474%" and text[pct.start: pct.end] == pct.text


# ---------------------------------------------------------------------------------------------- robustness


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_and_offsets_are_valid_on_any_text(text: str) -> None:
    for amount in find_amounts(text, default_currency="EUR"):
        assert text[amount.start: amount.end] == amount.text
        assert math.isfinite(amount.value) and amount.value >= 0
        assert amount.high is None or (math.isfinite(amount.high) and amount.high >= 0)
    for pct in find_percentages(text):
        assert text[pct.start: pct.end] == pct.text
        assert math.isfinite(pct.value) and pct.value >= 0
    value = parse_number(text)
    assert value is None or (math.isfinite(value) and value >= 0)


_MONEYISH = st.lists(
    st.sampled_from(
        ["15", "14,8", "1.200.000", "9" * 320, "0", "mila", "milioni", "miliardi", "mld", "mln", "di", "euro",
         "$", "€", "%", "per cento", "tra", "e", "-", "oltre", "un", "venti", "B$", "M", "bn", " ", ",", ".",
         "per azione", "metà del capitale", "l'", "il", "2022", "dollari", "corone", "svedesi"]
    ),
    max_size=25,
).map(" ".join)


@settings(max_examples=400, deadline=None)
@given(_MONEYISH)
def test_money_like_noise_gives_valid_results(text: str) -> None:
    for amount in find_amounts(text):
        assert text[amount.start: amount.end] == amount.text
        assert math.isfinite(amount.value) and amount.value >= 0
        assert amount.start < amount.end
    for pct in find_percentages(text):
        assert text[pct.start: pct.end] == pct.text
        assert math.isfinite(pct.value) and pct.value >= 0


# ------------------------------------------------------------------------------------- spaCy component


@pytest.fixture(scope="module")
def nlp() -> spacy.Language:
    pipeline = spacy.blank("it")
    pipeline.add_pipe("dealradar_money_v1")
    return pipeline


def test_component_sets_money_and_percent_spans(nlp: spacy.Language) -> None:
    doc = nlp("Alfa compra il 49% di Beta per 14,8 miliardi di dollari e 500mila euro di bonus.")
    money = doc.spans["money"]
    assert [span.text for span in money] == ["14,8 miliardi di dollari", "500mila euro"]
    assert [span.label_ for span in money] == ["USD", "EUR"]
    assert money[0]._.dr_amount.value == 14.8e9
    assert [span.text for span in doc.spans["percent"]] == ["49%"]
    assert doc.spans["percent"][0]._.dr_percentage.value == 49.0
    assert all(isinstance(a, Amount) for a in doc._.dr_amounts)


def test_component_spans_expand_to_token_boundaries(nlp: spacy.Language) -> None:
    doc = nlp("Valutazione di 28 miliardi.")
    [span] = doc.spans["money"]
    assert span.text == "28 miliardi"
    assert span.label_ == "MONEY"
    assert doc._.dr_amounts[0].currency is None


def test_component_default_currency_from_config() -> None:
    pipeline = spacy.blank("it")
    pipeline.add_pipe("dealradar_money_v1", config={"default_currency": "EUR"})
    doc = pipeline("Un round da 15 milioni.")
    [amount] = doc._.dr_amounts
    assert (amount.currency, amount.currency_inferred) == ("EUR", True)
    assert doc.spans["money"][0].label_ == "EUR"


def test_component_pipe_matches_call_in_batches(nlp: spacy.Language) -> None:
    texts = [f"La startup {i} raccoglie {i + 1} milioni di euro, il {i}% del target." for i in range(23)]
    piped = list(nlp.pipe(texts, batch_size=4))
    assert len(piped) == len(texts)
    for text, doc in zip(texts, piped, strict=True):
        assert doc._.dr_amounts == find_amounts(text)
        assert [p.value for p in doc._.dr_percentages] == [p.value for p in find_percentages(text)]


def test_component_results_survive_doc_serialisation(nlp: spacy.Language) -> None:
    doc = nlp("Gamma rileva il 70% di Delta per € 70 mln.")
    restored = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert restored._.dr_amounts == doc._.dr_amounts
    assert [s.text for s in restored.spans["money"]] == ["€ 70 mln"]
    assert restored.spans["money"][0]._.dr_amount.value == 70e6


def test_component_on_text_without_figures(nlp: spacy.Language) -> None:
    doc = nlp("Nessuna cifra in questa frase.")
    assert list(doc.spans["money"]) == [] and doc._.dr_amounts == []
    assert list(doc.spans["percent"]) == []


# ------------------------------------------------------------------------------------- more wording


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Una multa da 1,2 mld€ alla piattaforma.", [(1.2e9, "EUR")]),
        ("Pagati 3mln€ in contanti.", [(3e6, "EUR")]),
        ("Un ticket da 400k€ per il seed.", [(400e3, "EUR")]),
        ("Raccolti 2MLN di euro in un mese.", [(2e6, "EUR")]),
        ("The fintech raised $300m from investors.", [(300e6, "USD")]),
        ("La britannica ha raccolto £40m.", [(40e6, "GBP")]),
        ("Il deal vale $1.2 trillion secondo gli analisti.", [(1.2e12, "USD")]),
        ("Ceduta per 7 milioni e 500mila euro.", [(7.5e6, "EUR")]),
        ("La banca ha prestato 3 miliardi SEK al gruppo.", [(3e9, "SEK")]),
        ("Un accordo da 2 milioni di €.", [(2e6, "EUR")]),
        ("Una raccolta di 3,2 milioni di euro da 1.500 investitori.", [(3.2e6, "EUR")]),
        ("Alibaba investe 1 miliardo di yuan (140 milioni di dollari).", [(1e9, "CNY"), (140e6, "USD")]),
        ("Ha un fatturato di 5 milioni, di cui 3 milioni all'estero.", [(5e6, None), (3e6, None)]),
        ("Il fondo gestisce 2 miliardi di asset.", [(2e9, None)]),
        ("Un'IPO da 1-2 miliardi.", [(1e9, None)]),
        ("Dieci milioni per la nuova fabbrica.", [(10e6, None)]),
        ("Un aumento da mille miliardi di lire turche.", [(1000e9, "TRY")]),
    ],
)
def test_more_money_wording(text: str, expected: list[tuple[float, str | None]]) -> None:
    _assert_values(text, expected)


@pytest.mark.parametrize(
    "text",
    [
        "Ci sono decine di milioni di dollari in gioco.",
        "Servono centinaia di milioni per la rete.",
        "Il mercato vale miliardi di dollari.",
        "Il Ftse Mib chiude a 34.500 punti.",
        "Il team di 3 try ha vinto.",
        "Le sek sono 3 sek.",
    ],
)
def test_vague_quantities_and_lowercase_codes_are_not_amounts(text: str) -> None:
    assert find_amounts(text) == [], text


def test_oltre_a_means_besides_not_more_than() -> None:
    [amount] = find_amounts("Oltre a 3 milioni di euro di debito, la società ha ceduto un ramo.")
    assert amount.approx is False


def test_da_oltre_is_approx() -> None:
    [amount] = find_amounts("Un round da oltre 260 milioni.")
    assert amount.approx is True and amount.value == 260e6


def test_e_oltre_before_the_next_figure_does_not_qualify_the_previous_one() -> None:
    first, second = find_amounts("Ha raccolto 500mila euro e oltre 1,1 milioni di dollari.")
    assert (first.approx, second.approx) == (False, True)


def test_sentence_starting_with_di_after_abbreviation_dot_is_not_absorbed() -> None:
    [amount] = find_amounts("Un round da 350 mln. Dietro c'è un fondo.")
    assert amount.text == "350 mln"


def test_year_before_e_il_is_not_a_percentage() -> None:
    assert [p.value for p in find_percentages("Nel 2020 e il 15% del mercato.")] == [15.0]


def test_infer_currency_prefers_the_most_stated_currency_of_scaled_amounts() -> None:
    text = (
        "La startup ha raccolto 20 milioni di euro; il fondo gestisce 3 miliardi di dollari; "
        "il precedente round era da 5 milioni di euro. Ora valuta 80 milioni."
    )
    assert infer_currency(find_amounts(text)) == "EUR"
    amounts = find_amounts(text, default_currency=infer_currency(find_amounts(text)))
    assert (amounts[-1].value, amounts[-1].currency, amounts[-1].currency_inferred) == (80e6, "EUR", True)


def test_infer_currency_ignores_share_prices_and_falls_back() -> None:
    share_price_only = find_amounts("Offerti 1,60 dollari per azione. Il deal vale 2 miliardi.")
    assert infer_currency(share_price_only, fallback="EUR") == "EUR"
    assert infer_currency([], fallback=None) is None


def test_infer_currency_tie_goes_to_first_stated() -> None:
    amounts = find_amounts("Prima 10 milioni di sterline, poi 12 milioni di dollari.")
    assert infer_currency(amounts) == "GBP"


@pytest.mark.parametrize(
    ("text", "is_money"),
    [
        ("Erano già 15 milioni gli utenti della piattaforma.", False),
        ("Sono 40 milioni le persone raggiunte.", False),
        ("Sono 20 milioni le perdite del trimestre.", True),
        ("Valgono 5 miliardi i ricavi del gruppo.", True),
        ("Ha raccolto 10 milioni i primi giorni di campagna.", True),
        ("Un fossile di 3 milioni di anni.", False),
        ("Servono 2 miliardi gli investimenti per la rete.", True),
    ],
)
def test_plural_article_after_bare_figure_tells_counts_from_money(text: str, is_money: bool) -> None:
    assert bool(find_amounts(text)) is is_money, text


def test_figure_in_words_completes_a_compound() -> None:
    [amount] = find_amounts("Raccolti un milione e duecentomila euro dai soci.")
    assert (amount.value, amount.currency) == (1.2e6, "EUR")
    assert amount.text == "un milione e duecentomila euro"


def test_compound_count_in_words_is_not_money() -> None:
    assert find_amounts("In cinque anni ha conquistato oltre un milione e trecentomila utenti.") == []


def test_currency_word_closes_the_first_figure() -> None:
    amounts = find_amounts("Il biglietto costa 5 euro e 3 milioni sono già stati venduti.")
    assert [(a.value, a.currency) for a in amounts] == [(5.0, "EUR"), (3e6, None)]


def test_price_followed_by_a_date_does_not_make_a_second_amount() -> None:
    [amount] = find_amounts("Il titolo è sceso fino a 1,25 euro al 17 maggio.")
    assert (amount.value, amount.currency, amount.approx) == (1.25, "EUR", True)


def test_prefix_currency_hyphen_range_of_share_prices() -> None:
    [amount] = find_amounts("Le azioni saranno offerte a $30-34 per azione.")
    assert (amount.value, amount.high, amount.currency, amount.per_share) == (30.0, 34.0, "USD", True)


def test_nell_ordine_dei_is_approx() -> None:
    [amount] = find_amounts("La valutazione è nell'ordine dei 6 miliardi di dollari.")
    assert amount.approx is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Un aumento di capitale di Euro 10.000.000,00 deliberato dall'assemblea.", [(10e6, "EUR")]),
        ("Il finanziamento è di euro 1,5 milioni.", [(1.5e6, "EUR")]),
        ("The lender provided EUR1.5bn of debt.", [(1.5e9, "EUR")]),
        ("Una linea di credito da Usd 300 milioni.", [(300e6, "USD")]),
        ("Il fondo svizzero investe CHF2m.", [(2e6, "CHF")]),
    ],
)
def test_prefix_codes_and_notarial_euro(text: str, expected: list[tuple[float, str | None]]) -> None:
    _assert_values(text, expected)


@pytest.mark.parametrize("text", ["Il motore Euro 6 inquina meno.", "Gli Euro 2024 si giocano in Germania."])
def test_euro_before_a_plain_integer_is_not_money(text: str) -> None:
    assert find_amounts(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Raccolti 1,5 milioni su 2 milioni di obiettivo.",
        "L'azienda ha chiuso con 3 milioni di rosso.",
        "Il gruppo ha 4 miliardi di liquidità in cassa.",
        "Pagati 2 milioni di riscatto agli hacker.",
        "La startup ha incassato 600 milioni di commissioni.",
    ],
)
def test_money_nouns_after_di_keep_the_amount(text: str) -> None:
    assert find_amounts(text)[-1].value in (2e6, 3e6, 4e9, 600e6)


@pytest.mark.parametrize(
    ("text", "value"),
    [("Costa un paio di miliardi.", 2e9), ("Una decina di milioni di euro per il piano.", 10e6)],
)
def test_vague_counts_are_approx(text: str, value: float) -> None:
    [amount] = find_amounts(text)
    assert (amount.value, amount.approx) == (value, True)


def test_hyphenated_model_name_is_not_the_lower_end_of_a_percentage_range() -> None:
    assert [p.text for p in find_percentages("Il GPT-4 e il 20% degli utenti.")] == ["20%"]
