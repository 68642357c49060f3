/* The HQ map: stores as circles coloured by survey completeness, nearby ones grouped in
   numbered clusters (Leaflet.markercluster), each region's extent as a dashed outline, on
   the base map of the configured tile server (none when it is not set: then nothing is
   loaded from outside this server). A store's popup: owner, last survey and its score,
   a link to the store. The words come translated from the page (#map-labels). */
(function () {
  "use strict";
  var COLOURS = {
    complete: "#2e7d32", partial: "#f9a825", poor: "#c62828",
    stale: "#6d4c41", unscored: "#7b1fa2", none: "#9e9e9e"
  };
  var element = document.getElementById("map");
  var status = document.getElementById("map-status");
  if (!element || !window.L) { return; }
  var labels = JSON.parse(document.getElementById("map-labels").textContent);
  var tilesUrl = element.dataset.tilesUrl;
  var maxZoom = parseInt(element.dataset.tilesMaxZoom, 10) || 19;
  var map = L.map(element, {
    preferCanvas: false, zoomSnap: 0.25, maxZoom: maxZoom, attributionControl: Boolean(tilesUrl)
  });
  if (tilesUrl) {
    map.attributionControl.setPrefix(false);
    L.tileLayer(tilesUrl, {
      maxZoom: maxZoom, attribution: element.dataset.tilesAttribution, crossOrigin: false
    }).addTo(map);
  }
  map.setView([51, 10], 5);

  function escape(text) {
    var div = document.createElement("div");
    div.textContent = text == null ? "" : String(text);
    return div.innerHTML;
  }
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) { return values[key]; });
  }

  function popup(p) {
    return "<strong>" + escape(p.name) + "</strong>" +
      "<dl class=\"popup\"><dt>" + escape(labels.owner) + "</dt><dd class=\"owner\">" +
      escape(p.owner || "–") + "</dd><dt>" + escape(labels.last_survey) +
      "</dt><dd class=\"survey\">" + escape(p.survey) + "</dd></dl>" +
      "<a class=\"store-link\" href=\"" + escape(p.url) + "\">" + escape(labels.open) + "</a>";
  }

  var clusters = L.markerClusterGroup({
    chunkedLoading: true,
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    zoomToBoundsOnClick: false,
    maxClusterRadius: 48,
    iconCreateFunction: function (cluster) {
      var count = cluster.getChildCount();
      var size = count < 10 ? 32 : count < 100 ? 38 : count < 1000 ? 44 : 50;
      return L.divIcon({
        html: "<span>" + count + "</span>",
        className: "store-cluster",
        iconSize: L.point(size, size)
      });
    }
  });
  // A click on a cluster zooms in to its stores; stores that zooming cannot part (the
  // same address, or nearly) fan out around it instead.
  clusters.on("clusterclick", function (event) {
    var cluster = event.layer;
    if (map.getBoundsZoom(cluster.getBounds()) >= map.getMaxZoom()) {
      cluster.spiderfy();
    } else {
      cluster.zoomToBounds({ padding: [24, 24] });
    }
  });
  clusters.on("clustermouseover", function (event) {
    event.layer.bindTooltip(fill(labels.cluster, { count: event.layer.getChildCount() }))
      .openTooltip();
  });

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
      var markers = [];
      features.forEach(function (feature) {
        var lon = feature.geometry.coordinates[0], lat = feature.geometry.coordinates[1];
        var p = feature.properties;
        var colour = COLOURS[p.band] || COLOURS.none;
        markers.push(L.circleMarker([lat, lon], {
          renderer: renderer, radius: 7, color: "#222", weight: 1,
          fillColor: colour, fillOpacity: 0.9, className: "store band-" + p.band
        }).bindPopup(popup(p)));
        all.push([lat, lon]);
        var e = extents[p.region] || (extents[p.region] = [[lat, lon], [lat, lon]]);
        e[0][0] = Math.min(e[0][0], lat); e[0][1] = Math.min(e[0][1], lon);
        e[1][0] = Math.max(e[1][0], lat); e[1][1] = Math.max(e[1][1], lon);
      });
      clusters.addLayers(markers);
      map.addLayer(clusters);
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
        map.fitBounds(everything, { animate: false, maxZoom: 15 });
        if (Object.keys(extents).length > 1) {
          var button = document.createElement("button");
          button.type = "button";
          button.textContent = labels.all;
          button.addEventListener("click", function () { map.fitBounds(everything); });
          zoomTo.appendChild(button);
        }
      }
      element.dataset.markers = String(features.length);
      status.textContent = features.length === 1
        ? labels.one_store : fill(labels.stores, { count: features.length });
    })
    .catch(function (error) {
      element.dataset.markers = "error";
      status.textContent = fill(labels.failed, { error: error.message });
    });
})();
