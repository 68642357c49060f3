from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from fieldline.inputs import json_problems


class JSONBodyParser(JSONParser):
    """JSON, held to `fieldline.inputs` (no NUL or lone surrogate in any string or key,
    numbers within 64 bits, bounded nesting and field names): a body that breaks them is
    a 400 naming where, before any serializer or the database sees it. A body nested
    deeper than the decoder's recursion limit is a parse error (400) too, not a 500.

    `whole_body_checked = False` leaves the values to the view: a sync push checks each
    mutation (a WatermelonDB push each row) on its own with the same rules, so that one
    bad value rejects its mutation and not the others."""

    whole_body_checked = True

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
        if self.whole_body_checked:
            problems = json_problems(data)
            if problems:
                raise ValidationError(problems)
        return data


class EnvelopeJSONParser(JSONBodyParser):
    """For bodies whose parts are checked one by one by the view (sync pushes)."""

    whole_body_checked = False
