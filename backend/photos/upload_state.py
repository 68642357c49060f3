"""A photo's upload state (pending -> uploaded -> thumbnail_ready), written through the
sync engine so that phones pull it with the photo."""

import uuid

from surveys.models import PhotoUploadState
from sync.bulk import bulk_update_records


def photo_thumbnail_ready_mark(*, photo_id: uuid.UUID | str) -> None:
    """The photo's thumbnail is made from its current bytes: phones may show it."""
    bulk_update_records(
        entity="photo",
        values_by_id={photo_id: {"upload_state": PhotoUploadState.THUMBNAIL_READY.value}},
    )
