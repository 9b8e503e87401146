"""The open data sets and their passports, in the form the national open-data portal takes.

data.egov.kz, "Requirements to format" (https://data.egov.kz/pages/format, read through the project's
search tool): a data set is sent as JSON, XML or Excel of at most 10 MB with meta information —
apiUri, nameKk/nameRu/nameEn, descriptionKk/Ru/En, keywords, responsible (fullnameKk/Ru/En, phone,
email) and fields, each with its type, pk (true|false), labelKk/labelRu/labelEn and, for dates, a
format. Its API v4 (https://data.egov.kz/pages/samples) serves data sets per version ("v1") with
Elasticsearch-style field types ("string"…). We keep those names; the update date is `updatedAt`
(ISO 8601) beside them. Plain Python: names are given in all three languages at once, as the
portal wants them.
"""

from __future__ import annotations

from dataclasses import dataclass

from egsu_core.vocabulary import Energy


@dataclass(frozen=True)
class FieldSpec:
    code: str
    type: str  # string | double | date (the portal's mapping types)
    kk: str
    ru: str
    en: str
    pk: bool = False
    format: str = ""

    def passport(self) -> dict:
        out = {"code": self.code, "type": self.type, "pk": self.pk, "labelKk": self.kk, "labelRu": self.ru,
               "labelEn": self.en}  # fmt: skip
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True)
class DataSet:
    code: str  # the portal's apiUri
    energies: tuple[str, ...]
    name: dict[str, str]  # kk, ru, en
    description: dict[str, str]
    keywords: str
    by_product: bool = False

    def label(self, language: str) -> str:
        return self.name.get(language) or self.name["en"]

    def text(self, language: str) -> str:
        return self.description.get(language) or self.description["en"]


FIELDS = [
    FieldSpec("period", "date", "Кезең (ай)", "Период (месяц)", "Period (month)", pk=True, format="yyyy-MM"),
    FieldSpec("level", "string", "Деңгей", "Уровень", "Level (national or regional)", pk=True),
    FieldSpec("region", "string", "Өңір", "Регион", "Region", pk=True),
    FieldSpec("energy", "string", "Энергия түрі", "Вид энергии", "Energy", pk=True),
    FieldSpec("product", "string", "Өнім", "Продукт", "Product", pk=True),
    FieldSpec("quantity", "string", "Шама", "Величина", "Quantity", pk=True),
    FieldSpec("unit", "string", "Өлшем бірлігі", "Единица измерения", "Unit"),
    FieldSpec("value", "double", "Мәні", "Значение", "Value (empty when withheld)"),
    FieldSpec("withheld", "string", "Жарияланбады", "Не опубликовано",
              "Withheld: fewer than three subjects make it up, or it would reveal such a cell"),
]  # fmt: skip

DATASETS: dict[str, DataSet] = {
    d.code: d
    for d in [
        DataSet(
            "egsu_oil_gas_turnover_monthly",
            (Energy.OIL_GAS.value,),
            {"kk": "Мұнай, газ конденсаты, шикі және тауарлық газ айналымы, айлар мен өңірлер бойынша",
             "ru": "Оборот нефти, газового конденсата, сырого и товарного газа по месяцам и регионам",
             "en": "Turnover of crude oil, gas condensate, raw and commodity gas by month and region"},
            {"kk": "ЕГСУ ТЭК есепке алу құралдарының тәуліктік деректерінің сомасы; үштен аз субъектіден "
                   "тұратын ұяшықтар жарияланбайды.",
             "ru": "Сумма суточных данных приборов учёта ЕГСУ ТЭК; ячейки, в которые входит меньше трёх "
                   "субъектов, не публикуются.",
             "en": "Sum of the daily values of the EGSU metering devices; cells made up of fewer than three "
                   "subjects are withheld."},
            "нефть, газ, конденсат, ТЭК, oil, gas",
            by_product=True,
        ),
        DataSet(
            "egsu_energy_consumption_monthly",
            (Energy.ELECTRICITY.value, Energy.HEAT.value, Energy.GAS.value),
            {"kk": "Электр энергиясын, жылуды және газды тұтыну, айлар мен өңірлер бойынша",
             "ru": "Потребление электроэнергии, тепла и газа по месяцам и регионам",
             "en": "Electricity, heat and gas consumption by month and region"},
            {"kk": "Коммерциялық есепке алу жүйелерінің деректерінің сомасы; үштен аз субъектіден тұратын "
                   "ұяшықтар жарияланбайды.",
             "ru": "Сумма данных систем коммерческого учёта; ячейки, в которые входит меньше трёх субъектов, "
                   "не публикуются.",
             "en": "Sum of the commercial metering systems' values; cells made up of fewer than three subjects "
                   "are withheld."},
            "электроэнергия, тепло, газ, потребление, electricity, heat, consumption",
        ),
    ]
}  # fmt: skip


def passport(dataset: DataSet, *, updated_at: str, responsible: dict) -> dict:
    """The portal's meta information for one data set (without its data)."""
    return {
        "apiUri": dataset.code,
        "version": "v1",
        "nameKk": dataset.name["kk"], "nameRu": dataset.name["ru"], "nameEn": dataset.name["en"],
        "descriptionKk": dataset.description["kk"], "descriptionRu": dataset.description["ru"],
        "descriptionEn": dataset.description["en"],
        "keywords": dataset.keywords,
        "responsible": responsible,
        "fields": [f.passport() for f in FIELDS],
        "updatedAt": updated_at,
    }  # fmt: skip
