/* The HQ map: stores as circles coloured by survey completeness, each region's extent as a
   dashed outline. No tile layer: nothing is loaded from outside this server. */
(function () {
  "use strict";
  var COLOURS = {
    complete: "#2e7d32", partial: "#f9a825", poor: "#c62828",
    stale: "#6d4c41", unscored: "#7b1fa2", none: "#9e9e9e"
  };
  var element = document.getElementById("map");
  var status = document.getElementById("map-status");
  if (!element || !window.L) { return; }
  var map = L.map(element, { preferCanvas: false, zoomSnap: 0.25, attributionControl: false });
  map.setView([51, 10], 5);

  function escape(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }

  fetch(element.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var features = data.features || [];
      var renderer = features.length > 2000 ? L.canvas() : L.svg();
      var extents = {};
      var all = [];
      features.forEach(function (feature) {
        var lon = feature.geometry.coordinates[0], lat = feature.geometry.coordinates[1];
        var p = feature.properties;
        var colour = COLOURS[p.band] || COLOURS.none;
        L.circleMarker([lat, lon], {
          renderer: renderer, radius: 6, color: "#222", weight: 1,
          fillColor: colour, fillOpacity: 0.9, className: "store band-" + p.band
        }).bindPopup(
          "<strong>" + escape(p.name) + "</strong><br>" + escape(p.region) + "<br>" +
          (p.score == null ? escape(p.band) : Math.round(p.score * 100) + "% complete")
        ).addTo(map);
        all.push([lat, lon]);
        var e = extents[p.region] || (extents[p.region] = [[lat, lon], [lat, lon]]);
        e[0][0] = Math.min(e[0][0], lat); e[0][1] = Math.min(e[0][1], lon);
        e[1][0] = Math.max(e[1][0], lat); e[1][1] = Math.max(e[1][1], lon);
      });
      var zoomTo = document.getElementById("map-regions");
      Object.keys(extents).sort().forEach(function (region) {
        var bounds = L.latLngBounds(extents[region]).pad(0.05);
        L.rectangle(bounds, {
          color: "#1565c0", weight: 1, dashArray: "4 4", fill: false, interactive: false
        }).bindTooltip(region, { permanent: true, direction: "top", className: "region-label" })
          .addTo(map);
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = region;
        button.addEventListener("click", function () { map.fitBounds(bounds); });
        zoomTo.appendChild(button);
      });
      if (all.length) {
        var everything = L.latLngBounds(all).pad(0.1);
        map.fitBounds(everything, { animate: false });
        if (Object.keys(extents).length > 1) {
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = "all";
          button.addEventListener("click", function () { map.fitBounds(everything); });
          zoomTo.appendChild(button);
        }
      }
      element.dataset.markers = String(features.length);
      status.textContent = features.length + " store" + (features.length === 1 ? "" : "s") + ".";
    })
    .catch(function (error) {
      element.dataset.markers = "error";
      status.textContent = "The stores could not be loaded (" + error.message + ").";
    });
})();
