// Distances, geofences and the day's route order, as the server computes them
// (geo/geofence.py, geo/route.py): pure functions, no DOM.

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (degrees) => (degrees * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceM(lat1, lon1, lat2, lon2) {
  const a =
    Math.sin(rad(lat2 - lat1) / 2) ** 2 +
    Math.cos(rad(lat1)) * Math.cos(rad(lat2)) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(Math.sqrt(a), 1));
}

/** A check-in's fence (visits): the store's radius, else its trade area's, else the default,
 * widened by the reported accuracy times the factor, up to the cap. */
export function visitFence({ store, accuracy, geofence }) {
  const radius =
    store.geofence_radius_m ??
    geofence.radius_by_trade_area?.[store.trade_area_type] ??
    geofence.radius_m;
  const slack = Math.min(geofence.accuracy_factor * (accuracy ?? 0), geofence.max_slack_m);
  return { radius, allowed: radius + slack };
}

/** A survey's GPS item (surveys/selectors.py): the store's radius or the default, widened
 * by the accuracy up to the cap. */
export function surveyFenceAllows({ distance, accuracy, store, geofence }) {
  const radius = store.geofence_radius_m ?? geofence.radius_m;
  return distance <= radius + Math.min(accuracy ?? 0, geofence.max_slack_m);
}

/** Nearest neighbour from `start`, then 2-opt until no swap shortens the open path. */
export function routeOrder(start, points) {
  const n = points.length;
  if (n <= 1) return points.map((_, index) => index);
  const dist = (a, b) => distanceM(a.lat, a.lon, b.lat, b.lon);
  const left = new Set(points.map((_, index) => index));
  const order = [];
  let at = start;
  while (left.size) {
    let best = null;
    let bestD = Infinity;
    for (const index of left) {
      const d = dist(at, points[index]);
      if (d < bestD) [best, bestD] = [index, d];
    }
    order.push(best);
    left.delete(best);
    at = points[best];
  }
  const node = (k) => (k < 0 ? start : points[order[k]]);
  let improved = true;
  for (let rounds = 0; improved && rounds < 50; rounds += 1) {
    improved = false;
    for (let i = 0; i < n - 1; i += 1) {
      for (let j = i + 1; j < n; j += 1) {
        const before = dist(node(i - 1), node(i)) + (j + 1 < n ? dist(node(j), node(j + 1)) : 0);
        const after = dist(node(i - 1), node(j)) + (j + 1 < n ? dist(node(i), node(j + 1)) : 0);
        if (after + 1e-9 < before) {
          order.splice(i, j - i + 1, ...order.slice(i, j + 1).reverse());
          improved = true;
        }
      }
    }
  }
  return order;
}
