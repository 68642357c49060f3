"""POST /api/photos/{id}/upload: where to send a photo's bytes; POST
/api/photos/{id}/uploaded: check what arrived and mark the photo."""

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from photos.content import PhotoContentErrorCode, PhotoContentRejected
from photos.syncing import PHOTO
from photos.uploads import (
    PhotoNotUploaded,
    photo_upload_confirm,
    photo_upload_target,
)
from sync.selectors import record_list


class PhotoUploadTargetSerializer(serializers.Serializer):
    method = serializers.CharField()
    url = serializers.URLField()
    headers = serializers.DictField(
        child=serializers.CharField(), help_text="Send these headers with the bytes."
    )
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="When the URL stops working; null: it does not expire."
    )


class PhotoUploadedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    upload_state = serializers.CharField()
    size_bytes = serializers.IntegerField()


def photo_for_upload(request: Request, pk):
    photo = get_object_or_404(record_list(actor=request.user, spec=PHOTO), pk=pk)
    if request.user.role not in PHOTO.creators:
        raise PermissionDenied("Your role may not upload photos.")
    return photo


class PhotoUploadApi(APIView):
    """Where the phone sends the photo's bytes: a presigned PUT to object storage bound to
    the photo's SHA-256, or this server's PUT /api/photos/{id}/content."""

    @extend_schema(request=None, responses={200: PhotoUploadTargetSerializer})
    def post(self, request: Request, pk) -> Response:
        photo = photo_for_upload(request, pk)
        content_url = request.build_absolute_uri(reverse("photo-content", args=[photo.pk]))
        target = photo_upload_target(photo=photo, content_url=content_url)
        return Response(PhotoUploadTargetSerializer(target).data)


class PhotoUploadedApi(APIView):
    """The phone says the bytes are sent: check their size and checksum, mark the photo."""

    @extend_schema(
        request=None,
        responses={
            200: PhotoUploadedSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Not the photo's bytes."),
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="No bytes arrived yet."),
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="Too large."),
        },
    )
    def post(self, request: Request, pk) -> Response:
        photo = photo_for_upload(request, pk)
        try:
            photo = photo_upload_confirm(actor=request.user, photo=photo)
        except PhotoNotUploaded:
            return Response(
                {"detail": "No bytes have arrived for this photo yet.", "code": "not_uploaded"},
                status=409,
            )
        except PhotoContentRejected as rejection:
            status = 413 if rejection.code == PhotoContentErrorCode.TOO_LARGE else 400
            return Response(
                {"detail": rejection.message, "code": str(rejection.code)}, status=status
            )
        return Response(
            {"id": photo.pk, "upload_state": photo.upload_state, "size_bytes": photo.size_bytes}
        )
