// The sync client's storage contract, held by both implementations: the in-memory one and
// the IndexedDB one (under Node through fake-indexeddb, an in-memory IndexedDB).
import 'fake-indexeddb/auto';

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';

import { SyncClient } from '../../backend/fieldapp/static/fieldapp/sync/client.js';
import { IndexedDBStorage } from '../../backend/fieldapp/static/fieldapp/sync/idb-storage.js';
import { MemoryStorage } from '../../backend/fieldapp/static/fieldapp/sync/memory-storage.js';
import { FakeServer } from './fake_server.mjs';

const IMPLEMENTATIONS = {
  MemoryStorage: () => new MemoryStorage(),
  IndexedDBStorage: () => new IndexedDBStorage(`fieldline-test-${randomUUID()}`),
};

for (const [name, make] of Object.entries(IMPLEMENTATIONS)) {
  describe(name, () => {
    test('one commit writes meta, outbox, records, conflicts and photo bytes', async () => {
      const storage = make();
      await storage.commit({
        meta: { cursor: '1:5', user: { id: 7 } },
        outboxAdd: [{ mutation_id: 'a', entity: 'visit' }, { mutation_id: 'b', entity: 'survey' }],
        recordsPut: [
          { entity: 'store', record: { id: 's1', name: 'Kiosk' } },
          { entity: 'survey', record: { id: 'v1', store: 's1', version: 2 } },
          { entity: 'survey', record: { id: 'v2', store: 's2', version: 1 } },
          { entity: 'visit', record: { id: 'open', store: 's1', check_out_at: null } },
          { entity: 'visit', record: { id: 'closed', store: 's1', check_out_at: '2026-12-01T10:00:00Z' } },
        ],
        conflictsAdd: [{ key: 'a:f', field: 'f' }],
        blobsPut: [{ id: 'p1', blob: new Blob([new Uint8Array([1, 2, 3])]), sha256: 'x', content_type: 'image/jpeg', size: 3 }],
      });

      assert.equal(await storage.getMeta('cursor'), '1:5');
      assert.deepEqual(await storage.getMeta('user'), { id: 7 });
      const outbox = await storage.outbox();
      assert.deepEqual(outbox.map((entry) => entry.mutation_id), ['a', 'b']);
      assert.ok(outbox[0].seq < outbox[1].seq);
      assert.deepEqual((await storage.record('survey', 'v1')).version, 2);
      assert.equal(await storage.record('survey', 'nope'), null);
      assert.deepEqual((await storage.records('survey')).map((r) => r.id).sort(), ['v1', 'v2']);
      assert.deepEqual((await storage.recordsOfStore('survey', 's1')).map((r) => r.id), ['v1']);
      assert.deepEqual((await storage.recordsByIds('survey', ['v2', 'missing'])).map((r) => r.id), ['v2']);
      assert.deepEqual((await storage.openVisits()).map((r) => r.id), ['open']);
      assert.deepEqual((await storage.conflicts()).map((c) => c.key), ['a:f']);
      assert.deepEqual(await storage.blobs(), [{ id: 'p1', sha256: 'x', content_type: 'image/jpeg', size: 3 }]);
      const stored = await storage.blob('p1');
      assert.deepEqual([...new Uint8Array(await stored.blob.arrayBuffer())], [1, 2, 3]);
    });

    test('later commits update, delete and clear; a checked-out visit leaves the open ones', async () => {
      const storage = make();
      await storage.commit({
        outboxAdd: [{ mutation_id: 'a' }, { mutation_id: 'b' }],
        recordsPut: [{ entity: 'visit', record: { id: 'v', store: 's', check_out_at: null } }],
        conflictsAdd: [{ key: 'k' }],
        blobsPut: [{ id: 'p', blob: new Blob(['x']), size: 1 }],
      });
      const [first, second] = await storage.outbox();

      await storage.commit({
        outboxPut: [{ ...first, attempted: true }],
        outboxDelete: [second.seq],
        recordsPut: [{ entity: 'visit', record: { id: 'v', store: 's', check_out_at: '2026-12-04T10:00:00Z' } }],
        conflictsDelete: ['k'],
        blobsDelete: ['p'],
      });

      assert.deepEqual(await storage.outbox(), [{ ...first, attempted: true }]);
      assert.deepEqual(await storage.openVisits(), []);
      assert.deepEqual(await storage.conflicts(), []);
      assert.deepEqual(await storage.blobs(), []);
      await storage.commit({ recordsClear: true, meta: { cursor: null } });
      assert.deepEqual(await storage.records('visit'), []);
      assert.equal(await storage.getMeta('cursor'), null);
      assert.equal((await storage.outbox()).length, 1, 'clearing the replica keeps the outbox');
      await storage.clear();
      assert.deepEqual(await storage.outbox(), []);
      assert.equal(await storage.getMeta('cursor'), undefined);
    });

    test('a commit with a bad operation applies none of it', async () => {
      const storage = make();
      await storage.commit({ meta: { cursor: 'before' } });

      await assert.rejects(
        storage.commit({
          meta: { cursor: 'after' },
          outboxAdd: [{ mutation_id: 'lost' }],
          recordsPut: [{ entity: 'store', record: { name: 'no id' } }],
        }),
      );

      assert.equal(await storage.getMeta('cursor'), 'before');
      assert.deepEqual(await storage.outbox(), []);
      assert.deepEqual(await storage.records('store'), []);
    });

    test('the client on this storage: a lost answer, a restart, then one application', async () => {
      const server = new FakeServer();
      const storage = make();
      const options = { storage, fetch: server.fetch, baseUrl: 'http://server.test', appVersion: '1.0.0' };
      const client = new SyncClient(options);
      await client.signIn('rep', 'pw');
      const id = await client.change({ entity: 'followup', op: 'create', fields: { note: 'x' } });
      server.loseNextAnswers = 1;
      await assert.rejects(client.sync());

      const restarted = new SyncClient(options);
      assert.equal(await restarted.pendingCount(), 1);
      await restarted.sync();

      assert.equal(server.applied.length, 1);
      assert.equal(await restarted.pendingCount(), 0);
      assert.equal((await restarted.record('followup', id)).version, 1);
    });
  });
}
