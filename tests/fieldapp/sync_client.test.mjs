// The sync client against an in-process protocol server: the outbox under lost answers,
// batches, rejections, conflicts, paging, 410 and 426, photo bytes, sign-out.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';

import { SyncClient, SyncError } from '../../backend/fieldapp/static/fieldapp/sync/client.js';
import { MemoryStorage } from '../../backend/fieldapp/static/fieldapp/sync/memory-storage.js';
import { FakeServer } from './fake_server.mjs';

async function signedIn({ server = new FakeServer(), storage = new MemoryStorage(), ...options } = {}) {
  const client = new SyncClient({
    storage,
    fetch: server.fetch,
    baseUrl: 'http://server.test',
    appVersion: '1.2.0',
    newId: randomUUID,
    ...options,
  });
  await client.signIn('rep', 'secret');
  return { server, storage, client };
}

const pushes = (server) => server.requests.filter((r) => r.path === '/api/sync/push');

test('an edit is in the outbox at once, shows in the record, and is removed once answered', async () => {
  const { server, client } = await signedIn();
  const storeId = server.serverEdit('store', randomUUID(), { name: 'Kiosk' }).id;
  await client.sync();

  const surveyId = await client.change({ entity: 'survey', op: 'create', fields: { store: storeId, footfall_weekday: 420 } });

  assert.equal(await client.pendingCount(), 1);
  assert.equal((await client.record('survey', surveyId)).footfall_weekday, 420);
  assert.equal((await client.records('survey', { store: storeId })).length, 1);
  await client.sync();
  assert.equal(await client.pendingCount(), 0);
  assert.equal(server.records.get(`survey:${surveyId}`).record.footfall_weekday, 420);
  const view = await client.record('survey', surveyId);
  assert.equal(view.version, 1);
  assert.equal(view._pending, 0);
});

test('the outbox survives a restart: a new client on the same storage sends the same mutations', async () => {
  const { server, storage, client } = await signedIn();
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'call back' } });
  const [entry] = await client.outbox();

  const reopened = new SyncClient({ storage, fetch: server.fetch, baseUrl: 'http://server.test', appVersion: '1.2.0' });
  assert.equal(await reopened.pendingCount(), 1);
  await reopened.sync();

  assert.deepEqual(server.applied, [entry.mutation_id]);
  assert.equal(await reopened.pendingCount(), 0);
});

test('a lost push answer: the entries stay, are sent again with the same ids, and apply once', async () => {
  const { server, client } = await signedIn();
  const ids = [];
  for (let n = 0; n < 3; n += 1) ids.push(await client.change({ entity: 'followup', op: 'create', fields: { note: `n${n}` } }));
  const sent = (await client.outbox()).map((entry) => entry.mutation_id);
  server.loseNextAnswers = 1;

  await assert.rejects(client.sync(), (error) => error instanceof SyncError && error.kind === 'offline');
  assert.equal(server.applied.length, 3); // the server did apply them
  const kept = await client.outbox();
  assert.deepEqual(kept.map((entry) => entry.mutation_id), sent);
  assert.ok(kept.every((entry) => entry.attempted));

  await client.sync();
  const retried = pushes(server)[1];
  assert.ok(retried);
  assert.deepEqual(server.applied, sent); // nothing applied twice
  assert.equal(await client.pendingCount(), 0);
  for (const id of ids) assert.equal(server.records.get(`followup:${id}`).record.version, 1);
});

test('an edit made after a push was attempted is a new mutation, not folded into the sent one', async () => {
  const { server, client } = await signedIn();
  const id = await client.change({ entity: 'followup', op: 'create', fields: { note: 'first' } });
  server.loseNextAnswers = 1;
  await assert.rejects(client.sync());

  await client.change({ entity: 'followup', op: 'update', id, fields: { note: 'second' } });

  const entries = await client.outbox();
  assert.equal(entries.length, 2);
  assert.deepEqual(entries[0].fields, { note: 'first' });
  assert.deepEqual(entries[1].fields, { note: 'second' });
  await client.sync();
  assert.equal(server.records.get(`followup:${id}`).record.note, 'second');
});

test('edits of a record not yet sent are folded into one mutation; a delete of it drops both', async () => {
  const { client } = await signedIn();
  const id = await client.change({ entity: 'survey', op: 'create', fields: { footfall_weekday: 1 } });
  await client.change({ entity: 'survey', op: 'update', id, fields: { footfall_weekend: 2 } });
  const entries = await client.outbox();
  assert.equal(entries.length, 1);
  assert.equal(entries[0].op, 'create');
  assert.deepEqual(entries[0].fields, { footfall_weekday: 1, footfall_weekend: 2 });

  await client.change({ entity: 'survey', op: 'delete', id });
  assert.equal(await client.pendingCount(), 0);
  assert.equal(await client.record('survey', id), null);
});

test('pushes go in order in batches of at most 500', async () => {
  const { server, client } = await signedIn();
  for (let n = 0; n < 1203; n += 1) await client.change({ entity: 'followup', op: 'create', fields: { note: `n${n}` } });
  const order = (await client.outbox()).map((entry) => entry.mutation_id);

  await client.sync();

  assert.deepEqual(pushes(server).map((request) => request.mutations), [500, 500, 203]);
  assert.deepEqual(server.applied, order);
  assert.equal(await client.pendingCount(), 0);
});

test('a client asked for bigger batches still sends at most 500', async () => {
  const { server, client } = await signedIn({ pushBatch: 2000 });
  for (let n = 0; n < 501; n += 1) await client.change({ entity: 'followup', op: 'create', fields: { note: `n${n}` } });
  await client.sync();
  assert.deepEqual(pushes(server).map((request) => request.mutations), [500, 1]);
});

test('a rejected mutation is kept with its errors, not sent again, and can be corrected', async () => {
  const { server, client } = await signedIn();
  const good = await client.change({ entity: 'followup', op: 'create', fields: { note: 'fine' } });
  const bad = await client.change({ entity: 'survey', op: 'create', fields: { footfall_weekday: -5, notes: 'x' } });

  await client.sync();

  assert.ok(server.records.has(`followup:${good}`));
  assert.ok(!server.records.has(`survey:${bad}`));
  const [refused] = await client.rejected();
  assert.equal(refused.record_id, bad);
  assert.deepEqual(refused.errors, { footfall_weekday: ['Ensure this value is greater than or equal to 0.'] });
  assert.equal(await client.pendingCount(), 0);
  assert.deepEqual((await client.record('survey', bad))._rejected, refused.errors);
  const before = pushes(server).length;
  await client.sync();
  assert.equal(pushes(server).length, before, 'nothing waiting: no push at all');

  await client.resend(refused.seq, { footfall_weekday: 50 });
  await client.sync();

  assert.deepEqual(await client.rejected(), []);
  assert.equal(server.records.get(`survey:${bad}`).record.footfall_weekday, 50);
  assert.equal(server.records.get(`survey:${bad}`).record.notes, 'x');
  assert.notEqual(server.applied.at(-1), refused.mutation_id);
});

test('a conflict answer is kept with both values for the rep to read', async () => {
  const { server, client } = await signedIn();
  const id = randomUUID();
  server.serverEdit('survey', id, { footfall_weekday: 300 });
  await client.sync();
  server.serverEdit('survey', id, { footfall_weekday: 515 });

  await client.change({ entity: 'survey', op: 'update', id, fields: { footfall_weekday: 420 } });
  const summary = await client.sync();

  assert.equal(summary.conflicts, 1);
  const [conflict] = await client.conflicts();
  assert.equal(conflict.field, 'footfall_weekday');
  assert.equal(conflict.client_value, 420);
  assert.equal(conflict.server_value, 515);
  assert.equal(conflict.record_id, id);
  const push = server.requests.filter((r) => r.path === '/api/sync/push').at(-1);
  assert.ok(push);
  await client.dismissConflicts();
  assert.deepEqual(await client.conflicts(), []);
});

test('pull follows the cursor page by page, applies deletes and resumes from the last page', async () => {
  const { server, storage, client } = await signedIn({ pullLimit: 10 });
  const ids = [];
  for (let n = 0; n < 25; n += 1) ids.push(server.serverEdit('store', randomUUID(), { name: `S${n}` }).id);
  const progress = [];
  client.onState = (state) => state.progress && progress.push(state.progress);

  const first = await client.sync();

  assert.equal(first.pulled, 25);
  assert.equal((await client.records('store')).length, 25);
  const pulls = server.requests.filter((r) => r.path === '/api/sync/pull');
  assert.equal(pulls.length, 3);
  assert.deepEqual(progress.map((p) => p.received), [10, 20, 25]);
  assert.equal(progress.at(-1).done, true);
  assert.equal(progress[0].total, null); // a version 1 server sends no progress

  server.serverDelete('store', ids[3]);
  server.serverEdit('store', ids[4], { name: 'Renamed' });
  const second = await client.sync();

  assert.equal(second.pulled, 2);
  assert.equal(await client.record('store', ids[3]), null);
  assert.equal((await client.record('store', ids[4])).name, 'Renamed');
  assert.equal(await storage.getMeta('cursor'), `1:${server.seq}`);
});

test('a walk cut off midway resumes from the last page received', async () => {
  const { server, storage, client } = await signedIn({ pullLimit: 10 });
  for (let n = 0; n < 30; n += 1) server.serverEdit('store', randomUUID(), { name: `S${n}` });
  const realFetch = server.fetch;
  let pulls = 0;
  client.fetch = async (url, init) => {
    if (url.includes('/api/sync/pull') && ++pulls === 2) throw new TypeError('Failed to fetch');
    return realFetch(url, init);
  };
  await assert.rejects(client.sync());
  assert.equal((await client.records('store')).length, 10);
  const resumedFrom = await storage.getMeta('cursor');

  client.fetch = realFetch;
  await client.sync();

  const walked = server.requests.filter((r) => r.path === '/api/sync/pull');
  assert.equal(walked.length, 3); // one page before the cut, then the two after it
  assert.ok(walked[1].search.includes(`cursor=${encodeURIComponent(resumedFrom)}`));
  assert.equal((await client.records('store')).length, 30);
});

test('1.1 progress is passed on when the server sends it', async () => {
  const server = new FakeServer();
  const page = server.pullPage.bind(server);
  server.pullPage = (cursor, limit) => {
    const [status, body] = page(cursor, limit);
    body.progress = { tier: 0, tier_complete: false, received: 12, estimated_total: 31000 };
    return [status, body];
  };
  const { client } = await signedIn({ server });
  server.serverEdit('store', randomUUID(), { name: 'A' });
  let seen;
  client.onState = (state) => {
    if (state.progress) seen = state.progress;
  };
  await client.sync();
  assert.deepEqual(seen, { received: 12, total: 31000, tier: 0, tierComplete: false, done: true });
});

test('410 resync: the replica is dropped and pulled from no cursor; waiting edits are kept and sent', async () => {
  const { server, client } = await signedIn();
  const kept = server.serverEdit('store', randomUUID(), { name: 'Kept' }).id;
  const gone = server.serverEdit('store', randomUUID(), { name: 'Gone' }).id;
  await client.sync();
  // The server is restored from a backup: a new epoch, and a record it no longer has.
  server.epoch = 2;
  server.records.delete(`store:${gone}`);
  server.log = server.log.filter((entry) => entry.id !== gone);
  const edit = await client.change({ entity: 'followup', op: 'create', fields: { store: kept, note: 'x' } });
  const refused = await client.change({ entity: 'survey', op: 'create', fields: { footfall_weekday: -1 } });

  const summary = await client.sync();

  assert.equal(summary.resync, true);
  assert.equal(await client.record('store', gone), null);
  assert.equal((await client.record('store', kept)).name, 'Kept');
  assert.ok(server.records.has(`followup:${edit}`));
  // The refused edit stays on the phone, still correctable.
  assert.equal((await client.rejected())[0].record_id, refused);
  assert.equal((await client.record('survey', refused)).footfall_weekday, -1);
  const pulls = server.requests.filter((r) => r.path === '/api/sync/pull');
  assert.ok(!pulls.at(-1).search.includes('cursor'));
});

test('an edit made while a sync runs stays waiting and is not lost by a resync', async () => {
  const { server, client } = await signedIn();
  server.serverEdit('store', randomUUID(), { name: 'A' });
  await client.sync();
  server.epoch = 3;
  const realFetch = server.fetch;
  let during;
  client.fetch = async (url, init) => {
    if (url.includes('/api/sync/pull') && !during) {
      during = await client.change({ entity: 'followup', op: 'create', fields: { note: 'typed meanwhile' } });
    }
    return realFetch(url, init);
  };
  await client.sync();
  assert.equal(await client.pendingCount(), 1);
  assert.equal((await client.record('followup', during)).note, 'typed meanwhile');
});

test('426: a clear message, nothing lost', async () => {
  const { client } = await signedIn({ server: new FakeServer({ minVersion: '2.0.0' }) });
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });

  await assert.rejects(client.sync(), (error) => {
    assert.equal(error.kind, 'upgrade');
    assert.match(error.message, /older than the server accepts \(version 2\.0\.0 or later\)/);
    return true;
  });
  assert.equal(await client.pendingCount(), 1);
});

test('the device headers go with every sync request', async () => {
  const { server, client } = await signedIn();
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });
  await client.sync();
  const deviceId = await client.deviceId();
  const [push] = pushes(server);
  assert.equal(push.headers['X-Device-Id'], deviceId);
  assert.equal(push.headers['X-App-Version'], '1.2.0');
  assert.equal(push.headers['X-Pending-Mutations'], '1');
  const pull = server.requests.find((r) => r.path === '/api/sync/pull');
  assert.equal(pull.headers['X-Pending-Mutations'], '0');
  assert.equal(pull.headers['X-Device-Id'], deviceId);
});

test('photo bytes go up through /upload and /uploaded once the record is on the server', async () => {
  const { server, client } = await signedIn();
  const id = await client.change({ entity: 'photo', op: 'create', fields: { sha256: 'ab'.repeat(32), content_type: 'image/jpeg' } });
  const blob = new Blob([new Uint8Array([255, 216, 255, 1, 2, 3])], { type: 'image/jpeg' });
  await client.addPhotoBytes({ id, blob, sha256: 'ab'.repeat(32), contentType: 'image/jpeg' });

  const summary = await client.sync();

  assert.equal(summary.photos, 1);
  assert.deepEqual([...server.photoBytes.get(id)], [255, 216, 255, 1, 2, 3]);
  const paths = server.requests.map((r) => `${r.method} ${r.path}`);
  assert.ok(paths.includes(`POST /api/photos/${id}/upload`));
  assert.ok(paths.includes(`PUT /api/photos/${id}/content`));
  assert.ok(paths.includes(`POST /api/photos/${id}/uploaded`));
  assert.deepEqual(await client.pendingPhotos(), []);
});

test('photo bytes fall back to PUT /content on a server without /upload; kept while the record is refused', async () => {
  const { server, client } = await signedIn({ server: new FakeServer({ uploadEndpoints: false }) });
  const id = await client.change({ entity: 'photo', op: 'create', fields: { sha256: 'cd'.repeat(32) } });
  await client.addPhotoBytes({ id, blob: new Blob([new Uint8Array([1])]), sha256: 'cd'.repeat(32), contentType: 'image/jpeg' });
  const orphan = randomUUID();
  await client.addPhotoBytes({ id: orphan, blob: new Blob([new Uint8Array([2])]), sha256: 'ef'.repeat(32), contentType: 'image/jpeg' });

  await client.sync();

  assert.deepEqual([...server.photoBytes.get(id)], [1]);
  assert.deepEqual((await client.pendingPhotos()).map((p) => p.id), [orphan]);
  assert.ok(!server.requests.some((r) => r.path.endsWith('/uploaded')));
});

test('sign-out refuses while changes wait, then revokes the token and wipes all but the device id', async () => {
  const { server, storage, client } = await signedIn();
  server.serverEdit('store', randomUUID(), { name: 'A' });
  await client.sync();
  const deviceId = await client.deviceId();
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });

  await assert.rejects(client.signOut(), /1 changes are still waiting/);
  assert.equal(server.revoked, false);
  const outcome = await client.signOut({ force: true });

  assert.deepEqual(outcome, { revoked: true });
  assert.equal(server.revoked, true);
  assert.equal(await client.token(), undefined);
  assert.deepEqual(await client.records('store'), []);
  assert.deepEqual(await client.outbox(), []);
  assert.equal(await storage.getMeta('cursor'), undefined);
  assert.equal(await client.deviceId(), deviceId);
});

test('an expired token is reported as such and keeps the outbox', async () => {
  const { server, client } = await signedIn();
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });
  server.token = 'another';
  await assert.rejects(client.sync(), (error) => error.kind === 'auth');
  assert.equal(await client.pendingCount(), 1);
});

test('two syncs at once share one run', async () => {
  const { server, client } = await signedIn();
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });
  const [a, b] = await Promise.all([client.sync(), client.sync()]);
  assert.equal(a, b);
  assert.equal(pushes(server).length, 1);
});

test('open visits and records by id include the edits waiting on the phone', async () => {
  const { server, client } = await signedIn();
  const closedHere = server.serverEdit('visit', randomUUID(), { store: 's1', check_out_at: null }).id;
  const stillOpen = server.serverEdit('visit', randomUUID(), { store: 's2', check_out_at: null }).id;
  server.serverEdit('visit', randomUUID(), { store: 's3', check_out_at: '2026-12-01T10:00:00Z' });
  await client.sync();
  await client.change({ entity: 'visit', op: 'update', id: closedHere, fields: { check_out_at: '2026-12-04T10:00:00Z' } });
  const fresh = await client.change({ entity: 'visit', op: 'create', fields: { store: 's4', check_out_at: null } });

  const open = (await client.openVisits()).map((visit) => visit.id).sort();

  assert.deepEqual(open, [stillOpen, fresh].sort());
  const some = await client.recordsByIds('visit', [closedHere, fresh, randomUUID()]);
  assert.deepEqual(some.map((visit) => visit.id).sort(), [closedHere, fresh].sort());
  assert.equal(some.find((visit) => visit.id === closedHere).check_out_at, '2026-12-04T10:00:00Z');
});

test('a request the network never answers counts as offline after the timeout; the outbox stays', async () => {
  const { server, client } = await signedIn({ timeoutMs: 50 });
  await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });
  client.fetch = (url, init) =>
    new Promise((resolve, reject) => {
      init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });

  await assert.rejects(client.sync(), (error) => error.kind === 'offline' && /did not answer in time/.test(error.message));

  assert.equal(await client.pendingCount(), 1);
  client.fetch = server.fetch;
  await client.sync(); // the single-flight sync was released
  assert.equal(await client.pendingCount(), 0);
});
