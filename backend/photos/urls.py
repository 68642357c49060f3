"""A photo's bytes and thumbnail, beside the router's /api/photos/ resource."""

from django.urls import path

from photos.apis import PhotoContentApi, PhotoThumbnailApi

urlpatterns = [
    path("photos/<uuid:pk>/content", PhotoContentApi.as_view(), name="photo-content"),
    path("photos/<uuid:pk>/thumbnail", PhotoThumbnailApi.as_view(), name="photo-thumbnail"),
]
