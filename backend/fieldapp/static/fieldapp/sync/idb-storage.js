// The sync client's storage in IndexedDB: the same methods as MemoryStorage, each
// `commit` one readwrite transaction, so the outbox, the replica and the cursor never
// disagree after a crash. Records are kept by [entity, id] with an index on the store
// they belong to, so a store's page reads only its own records.

const VERSION = 1;
// Visits without a check-out are indexed apart: every store page asks for them.
const OPEN_VISIT = 'open_visit';
const STORES = ['meta', 'outbox', 'records', 'conflicts', 'blobs'];

function promised(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class IndexedDBStorage {
  /** @param {string} name  one database per app (and per origin) */
  constructor(name = 'fieldline', indexedDB = globalThis.indexedDB) {
    this.name = name;
    this.indexedDB = indexedDB;
    this.db = null;
  }

  async open() {
    if (this.db) return this.db;
    const request = this.indexedDB.open(this.name, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('meta');
      db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
      const records = db.createObjectStore('records', { keyPath: ['entity', 'id'] });
      records.createIndex('by_entity', 'entity');
      records.createIndex('by_store', ['entity', 'store']);
      records.createIndex(OPEN_VISIT, OPEN_VISIT);
      db.createObjectStore('conflicts', { keyPath: 'key' });
      db.createObjectStore('blobs', { keyPath: 'id' });
    };
    this.db = await promised(request);
    // Another tab upgrading the schema: let it, and reopen on next use.
    this.db.onversionchange = () => {
      this.db.close();
      this.db = null;
    };
    return this.db;
  }

  async read(storeName, run) {
    const db = await this.open();
    const tx = db.transaction(storeName, 'readonly');
    return promised(run(tx.objectStore(storeName)));
  }

  async getMeta(key) {
    return this.read('meta', (store) => store.get(key));
  }

  async outbox() {
    return this.read('outbox', (store) => store.getAll());
  }

  async record(entity, id) {
    const row = await this.read('records', (store) => store.get([entity, id]));
    return row ? row.record : null;
  }

  async records(entity) {
    const rows = await this.read('records', (store) =>
      store.index('by_entity').getAll(IDBKeyRange.only(entity)),
    );
    return rows.map((row) => row.record);
  }

  async recordsOfStore(entity, storeId) {
    const rows = await this.read('records', (store) =>
      store.index('by_store').getAll(IDBKeyRange.only([entity, storeId])),
    );
    return rows.map((row) => row.record);
  }

  async recordsByIds(entity, ids) {
    const db = await this.open();
    const store = db.transaction('records', 'readonly').objectStore('records');
    const rows = await Promise.all(ids.map((id) => promised(store.get([entity, id]))));
    return rows.filter(Boolean).map((row) => row.record);
  }

  async openVisits() {
    const rows = await this.read('records', (store) => store.index(OPEN_VISIT).getAll());
    return rows.map((row) => row.record);
  }

  async conflicts() {
    return this.read('conflicts', (store) => store.getAll());
  }

  async blobs() {
    const rows = await this.read('blobs', (store) => store.getAll());
    return rows.map(({ blob, ...rest }) => rest);
  }

  async blob(id) {
    return (await this.read('blobs', (store) => store.get(id))) ?? null;
  }

  async commit(ops) {
    const db = await this.open();
    const tx = db.transaction(STORES, 'readwrite');
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
      tx.onerror = () => reject(tx.error);
    });
    try {
      this.queue(tx, ops);
    } catch (error) {
      // A bad operation (e.g. a record without an id) must not leave the others applied.
      tx.abort();
      await done.catch(() => {});
      throw error;
    }
    await done;
  }

  queue(tx, ops) {
    const meta = tx.objectStore('meta');
    const outbox = tx.objectStore('outbox');
    const records = tx.objectStore('records');
    const conflicts = tx.objectStore('conflicts');
    const blobs = tx.objectStore('blobs');
    for (const [key, value] of Object.entries(ops.meta || {})) meta.put(value, key);
    for (const seq of ops.outboxDelete || []) outbox.delete(seq);
    for (const entry of ops.outboxPut || []) outbox.put(entry);
    for (const entry of ops.outboxAdd || []) {
      const { seq, ...fresh } = entry;
      outbox.add(fresh);
    }
    if (ops.recordsClear) records.clear();
    for (const { entity, record } of ops.recordsPut || []) {
      const row = { entity, id: record.id, store: storeOf(entity, record), record };
      if (entity === 'visit' && !record.check_out_at && !record.deleted) row[OPEN_VISIT] = 1;
      records.put(row);
    }
    for (const { entity, id } of ops.recordsDelete || []) records.delete([entity, id]);
    for (const conflict of ops.conflictsAdd || []) conflicts.put(conflict);
    for (const key of ops.conflictsDelete || []) conflicts.delete(key);
    for (const blob of ops.blobsPut || []) blobs.put(blob);
    for (const id of ops.blobsDelete || []) blobs.delete(id);
  }

  async clear() {
    const db = await this.open();
    const tx = db.transaction(STORES, 'readwrite');
    for (const name of STORES) tx.objectStore(name).clear();
    await new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
}

/** The store a record belongs to (a store is its own), for the by_store index. */
function storeOf(entity, record) {
  if (entity === 'store') return record.id;
  return typeof record.store === 'string' ? record.store : '';
}
