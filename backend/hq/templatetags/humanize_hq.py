"""Numbers on the HQ pages as people read them, in the page's language: amounts with
their currency (`FIELDLINE["CURRENCY"]`), grouped counts, signed percentages."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import pgettext

from fieldline.conf import fieldline_settings

register = template.Library()

CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}
CENT = Decimal("0.01")


def currency_symbol() -> str:
    code = fieldline_settings.CURRENCY
    return CURRENCY_SYMBOLS.get(code, code)


@register.filter
def money(value) -> str:
    """1234.5 → "€1,234.50" in English, "1.234,50 €" in German."""
    if value is None or value == "":
        return "–"
    amount = number_format(
        Decimal(str(value)).quantize(CENT), decimal_pos=2, use_l10n=True, force_grouping=True
    )
    # Translators: an amount of money; German puts the symbol after, with a space.
    return pgettext("money", "%(symbol)s%(amount)s") % {
        "symbol": currency_symbol(),
        "amount": amount,
    }


@register.filter
def grouped(value) -> str:
    """A number with thousands grouped: 12400 → "12,400" (English), "12.400" (German)."""
    if value is None or value == "":
        return "–"
    number = float(value)
    if number.is_integer():
        number = int(number)
    return number_format(number, use_l10n=True, force_grouping=True)


@register.filter
def percent(value: float | None) -> str:
    """A fraction as a signed percentage: -0.4 → "-40%" ("-40 %" in German)."""
    if value is None:
        return "–"
    return pgettext("percent", "%(value)s%%") % {"value": f"{value * 100:+.0f}"}


@register.filter
def percent_of(value: float | None) -> str:
    """A share as a percentage: 0.3 → "30%" ("30 %" in German)."""
    if value is None:
        return "–"
    return pgettext("percent", "%(value)s%%") % {"value": f"{value * 100:.0f}"}
