// The day's route order on the phone: nearest neighbour plus 2-opt, checked against every
// order on small cases (the server's route is checked the same way in tests/geo).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { distanceM, routeOrder, visitFence } from '../../backend/fieldapp/static/fieldapp/js/geo.js';

function length(start, points, order) {
  let at = start;
  let total = 0;
  for (const index of order) {
    total += distanceM(at.lat, at.lon, points[index].lat, points[index].lon);
    at = points[index];
  }
  return total;
}

function* permutations(items) {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i += 1) {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) yield [items[i], ...rest];
  }
}

test('the route is within 5 % of the best order on small random cases', () => {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let round = 0; round < 30; round += 1) {
    const start = { lat: 53.55, lon: 9.99 };
    const points = Array.from({ length: 7 }, () => ({ lat: 53.5 + random() * 0.1, lon: 9.9 + random() * 0.2 }));
    const order = routeOrder(start, points);
    assert.deepEqual([...order].sort(), points.map((_, i) => i));
    let best = Infinity;
    for (const candidate of permutations(points.map((_, i) => i))) best = Math.min(best, length(start, points, candidate));
    assert.ok(length(start, points, order) <= best * 1.05, `round ${round}`);
  }
});

test('a hundred stops are ordered quickly', () => {
  const points = Array.from({ length: 100 }, (_, i) => ({ lat: 53.5 + ((i * 37) % 100) / 1000, lon: 9.9 + ((i * 61) % 100) / 500 }));
  const started = performance.now();
  const order = routeOrder({ lat: 53.55, lon: 9.99 }, points);
  assert.equal(new Set(order).size, 100);
  assert.ok(performance.now() - started < 1000);
});

test('a check-in fence: the store radius, else the trade area one, widened by accuracy up to the cap', () => {
  const geofence = { radius_m: 150, radius_by_trade_area: { transit: 300 }, accuracy_factor: 1, max_slack_m: 100 };
  assert.deepEqual(visitFence({ store: { trade_area_type: 'office' }, accuracy: 30, geofence }), { radius: 150, allowed: 180 });
  assert.deepEqual(visitFence({ store: { trade_area_type: 'transit' }, accuracy: 500, geofence }), { radius: 300, allowed: 400 });
  assert.deepEqual(visitFence({ store: { geofence_radius_m: 80, trade_area_type: 'transit' }, accuracy: null, geofence }), { radius: 80, allowed: 80 });
});
