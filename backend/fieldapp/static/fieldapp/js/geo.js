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

/**
 * The day's order from `start` through every point, as geo/route.py plans it on the server:
 * nearest neighbour, then 2-opt and or-opt moves until neither helps, from the plain
 * greedy path and (for a day of up to 25 stops) from greedy paths opening with each of
 * the nearest few points.
 * Returns point indexes. Distances are computed once (node 0 is the start).
 */
export function routeOrder(start, points, { restarts = points.length <= 25 ? 5 : 0 } = {}) {
  const n = points.length;
  if (n <= 1) return points.map((_, index) => index);
  const nodes = [start, ...points];
  const size = n + 1;
  const matrix = new Float64Array(size * size);
  for (let a = 0; a < size; a += 1) {
    for (let b = a + 1; b < size; b += 1) {
      const d = distanceM(nodes[a].lat, nodes[a].lon, nodes[b].lat, nodes[b].lon);
      matrix[a * size + b] = d;
      matrix[b * size + a] = d;
    }
  }
  const dist = (a, b) => matrix[a * size + b];
  const length = (path) => path.reduce((sum, node, k) => (k ? sum + dist(path[k - 1], node) : 0), 0);
  let best = improve(greedy(dist, n, null), dist);
  let bestLength = length(best);
  const nearest = [...Array(n).keys()].map((i) => i + 1).sort((a, b) => dist(0, a) - dist(0, b));
  for (const first of nearest.slice(0, restarts)) {
    const candidate = improve(greedy(dist, n, first), dist);
    const candidateLength = length(candidate);
    if (candidateLength < bestLength - MIN_GAIN_M) [best, bestLength] = [candidate, candidateLength];
  }
  return best.slice(1).map((node) => node - 1);
}

const MIN_GAIN_M = 1e-6;

/** [0, ...] visiting the closest unvisited node next (opening with `first` if given). */
function greedy(dist, n, first) {
  const path = [0];
  const left = new Set(Array.from({ length: n }, (_, i) => i + 1));
  if (first) {
    path.push(first);
    left.delete(first);
  }
  while (left.size) {
    const at = path[path.length - 1];
    let best = -1;
    let bestD = Infinity;
    for (const node of left) {
      if (dist(at, node) < bestD) [best, bestD] = [node, dist(at, node)];
    }
    path.push(best);
    left.delete(best);
  }
  return path;
}

function improve(path, dist) {
  for (let guard = 0; guard < 1000; guard += 1) {
    twoOpt(path, dist);
    if (!orOpt(path, dist)) return path;
  }
  return path;
}

/** Reverse path[i..j] while that shortens the open path (the start stays first). */
function twoOpt(path, dist) {
  const n = path.length - 1;
  let improved = true;
  while (improved) {
    improved = false;
    for (let i = 1; i < n; i += 1) {
      for (let j = i + 1; j <= n; j += 1) {
        const gain =
          j < n
            ? dist(path[i - 1], path[i]) + dist(path[j], path[j + 1]) - dist(path[i - 1], path[j]) - dist(path[i], path[j + 1])
            : dist(path[i - 1], path[i]) - dist(path[i - 1], path[j]);
        if (gain > MIN_GAIN_M) {
          for (let a = i, b = j; a < b; a += 1, b -= 1) [path[a], path[b]] = [path[b], path[a]];
          improved = true;
        }
      }
    }
  }
}

/** Move one stretch of up to three stops elsewhere (either way round); true if moved. */
function orOpt(path, dist) {
  const n = path.length - 1;
  for (let size = 1; size <= 3; size += 1) {
    for (let i = 1; i + size - 1 <= n; i += 1) {
      const j = i + size - 1;
      let removal = dist(path[i - 1], path[i]);
      if (j < n) removal += dist(path[j], path[j + 1]) - dist(path[i - 1], path[j + 1]);
      const rest = [...path.slice(0, i), ...path.slice(j + 1)];
      for (let p = 0; p < rest.length; p += 1) {
        if (p === i - 1) continue;
        const x = rest[p];
        const y = p + 1 < rest.length ? rest[p + 1] : null;
        for (const reversed of [false, true]) {
          const head = reversed ? path[j] : path[i];
          const tail = reversed ? path[i] : path[j];
          const cost = dist(x, head) + (y !== null ? dist(tail, y) - dist(x, y) : 0);
          if (removal - cost > MIN_GAIN_M) {
            const stretch = path.slice(i, j + 1);
            if (reversed) stretch.reverse();
            path.splice(0, path.length, ...rest.slice(0, p + 1), ...stretch, ...rest.slice(p + 1));
            return true;
          }
        }
      }
    }
  }
  return false;
}
