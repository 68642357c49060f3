"""Phone numbers are the identity key of a store, so they are kept in one form (E.164)."""

import phonenumbers

from fieldline.conf import fieldline_settings


class PhoneNumberError(ValueError):
    pass


def normalize_phone(raw: str, *, default_region: str | None = None) -> str:
    """E.164 form of a phone number written any usual way; national numbers use the
    company's country (FIELDLINE["PHONE_REGION"])."""
    region = default_region or fieldline_settings.PHONE_REGION
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise PhoneNumberError("Not a phone number.") from error
    if not phonenumbers.is_valid_number(number):
        raise PhoneNumberError("Not a valid phone number.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
