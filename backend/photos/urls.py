"""A photo's bytes and thumbnail, beside the router's /api/photos/ resource."""

from django.urls import path

from photos.apis import PhotoContentApi, PhotoThumbnailApi
from photos.upload_apis import PhotoUploadApi, PhotoUploadedApi

urlpatterns = [
    path("photos/<uuid:pk>/content", PhotoContentApi.as_view(), name="photo-content"),
    path("photos/<uuid:pk>/thumbnail", PhotoThumbnailApi.as_view(), name="photo-thumbnail"),
    path("photos/<uuid:pk>/upload", PhotoUploadApi.as_view(), name="photo-upload"),
    path("photos/<uuid:pk>/uploaded", PhotoUploadedApi.as_view(), name="photo-uploaded"),
]
