"""HTTP for photos: their metadata as a syncable resource (/api/photos/), PUT/GET
/api/photos/{id}/content: a photo's bytes, and GET /api/photos/{id}/thumbnail: its
thumbnail, all in the caller's scope."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from photos.content import (
    IMAGE_TYPES,
    PhotoContentErrorCode,
    PhotoContentRejected,
    photo_content_open,
    photo_content_store,
    photo_max_bytes,
    read_limited,
)
from photos.filters import PhotoFilter
from photos.serializers import PhotoWireSerializer
from photos.syncing import PHOTO
from photos.thumbnails import photo_thumbnail_open
from sync.rest import SyncableViewSet
from sync.selectors import record_list


class PhotoViewSet(SyncableViewSet):
    entity = "photo"
    serializer_class = PhotoWireSerializer
    filterset_class = PhotoFilter


class RawImageParser(BaseParser):
    """Declares the image types for the schema; the view reads the raw stream itself."""

    media_type = "image/*"


class PhotoContentApi(APIView):
    parser_classes = [RawImageParser]

    def photo(self, request: Request, pk):
        return get_object_or_404(record_list(actor=request.user, spec=PHOTO), pk=pk)

    @extend_schema(
        request={"image/*": OpenApiTypes.BINARY},
        responses={
            201: OpenApiResponse(description="Stored."),
            200: OpenApiResponse(description="The same bytes were already stored."),
            400: OpenApiResponse(description="Not the image the metadata describes."),
            413: OpenApiResponse(description="Too large."),
        },
    )
    def put(self, request: Request, pk) -> Response:
        photo = self.photo(request, pk)
        if request.user.role not in PHOTO.creators:
            raise PermissionDenied("Your role may not upload photos.")
        try:
            body = read_limited(request, limit=photo_max_bytes())
            stored = photo_content_store(actor=request.user, photo=photo, body=body)
        except PhotoContentRejected as rejection:
            status = 413 if rejection.code == PhotoContentErrorCode.TOO_LARGE else 400
            return Response(
                {"detail": rejection.message, "code": str(rejection.code)}, status=status
            )
        return Response(
            {"id": str(photo.pk), "size_bytes": stored.size_bytes},
            status=201 if stored.created else 200,
        )

    @extend_schema(responses={(200, "image/*"): OpenApiTypes.BINARY})
    def get(self, request: Request, pk):
        photo = self.photo(request, pk)
        content = photo_content_open(photo)
        if content is None:
            raise Http404
        content_type = photo.content_type if photo.content_type in IMAGE_TYPES else None
        return image_response(content, content_type=content_type, filename=str(photo.pk))


def image_response(content, *, content_type: str | None, filename: str) -> FileResponse:
    """Stored image bytes, served so that no browser runs them as anything but an image."""
    response = FileResponse(content, content_type=content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class PhotoThumbnailApi(APIView):
    @extend_schema(
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            404: OpenApiResponse(
                description="No such photo in your scope, or its thumbnail is not made yet."
            ),
        },
    )
    def get(self, request: Request, pk):
        photo = get_object_or_404(record_list(actor=request.user, spec=PHOTO), pk=pk)
        thumbnail = photo_thumbnail_open(photo)
        if thumbnail is None:
            raise NotFound(
                "This photo has no thumbnail yet: it is made in the background once the "
                "photo's bytes have arrived."
            )
        return image_response(thumbnail, content_type="image/jpeg", filename=f"{photo.pk}.jpg")
