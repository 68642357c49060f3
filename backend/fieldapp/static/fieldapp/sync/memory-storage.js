// The storage interface of the sync client, kept in memory: for tests, and the reference
// for other implementations. Every method is async; `commit` applies all its operations
// or none (IndexedDBStorage does it in one transaction).
//
// Reads: getMeta(key); outbox() (entries by seq); record(entity, id); records(entity);
// recordsOfStore(entity, storeId); recordsByIds(entity, ids); openVisits() (visits
// without a check-out); conflicts(); blobs() (photo bytes waiting, without the bytes);
// blob(id). Writes: commit(ops) below; clear() (everything, meta included).
//
// commit({meta, outboxAdd, outboxPut, outboxDelete, recordsClear, recordsPut,
//         recordsDelete, conflictsAdd, conflictsDelete, blobsPut, blobsDelete})
//   meta: {key: value}; outboxAdd: entries (a `seq` is given, rising); outboxPut: entries
//   with their seq; outboxDelete: seqs; recordsPut: [{entity, record}]; recordsDelete:
//   [{entity, id}]; conflictsAdd: conflicts with a `key`; conflictsDelete: keys;
//   blobsPut: [{id, blob, sha256, content_type, size}]; blobsDelete: ids.

export class MemoryStorage {
  constructor() {
    this.clearState();
    this.meta = new Map();
    this.nextSeq = 1;
  }

  clearState() {
    this.outboxEntries = new Map();
    this.recordMap = new Map();
    this.conflictMap = new Map();
    this.blobMap = new Map();
  }

  async getMeta(key) {
    return this.meta.has(key) ? structuredClone(this.meta.get(key)) : undefined;
  }

  async outbox() {
    return [...this.outboxEntries.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((entry) => structuredClone(entry));
  }

  async record(entity, id) {
    const record = this.recordMap.get(`${entity}:${id}`);
    return record ? structuredClone(record) : null;
  }

  async records(entity) {
    const prefix = `${entity}:`;
    return [...this.recordMap.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, record]) => structuredClone(record));
  }

  async recordsOfStore(entity, storeId) {
    return (await this.records(entity)).filter((record) => record.store === storeId);
  }

  async recordsByIds(entity, ids) {
    return ids.map((id) => this.recordMap.get(`${entity}:${id}`)).filter(Boolean).map((r) => structuredClone(r));
  }

  async openVisits() {
    return (await this.records('visit')).filter((visit) => !visit.check_out_at && !visit.deleted);
  }

  async conflicts() {
    return [...this.conflictMap.values()].map((conflict) => structuredClone(conflict));
  }

  async blobs() {
    return [...this.blobMap.values()].map(({ blob, ...rest }) => ({ ...rest }));
  }

  async blob(id) {
    return this.blobMap.get(id) ?? null;
  }

  async commit(ops) {
    // Validate everything first, so that a bad operation leaves nothing half-done.
    for (const seq of ops.outboxDelete || []) if (typeof seq !== 'number') throw new Error('seq');
    for (const entry of ops.outboxPut || []) {
      if (!this.outboxEntries.has(entry.seq)) throw new Error(`no outbox entry ${entry.seq}`);
    }
    for (const { record } of ops.recordsPut || []) {
      if (typeof record?.id !== 'string') throw new Error('a record needs an id');
    }
    for (const [key, value] of Object.entries(ops.meta || {})) this.meta.set(key, structuredClone(value));
    for (const seq of ops.outboxDelete || []) this.outboxEntries.delete(seq);
    for (const entry of ops.outboxPut || []) this.outboxEntries.set(entry.seq, structuredClone(entry));
    for (const entry of ops.outboxAdd || []) {
      const seq = this.nextSeq++;
      this.outboxEntries.set(seq, { ...structuredClone(entry), seq });
    }
    if (ops.recordsClear) this.recordMap.clear();
    for (const { entity, record } of ops.recordsPut || []) {
      this.recordMap.set(`${entity}:${record.id}`, structuredClone(record));
    }
    for (const { entity, id } of ops.recordsDelete || []) this.recordMap.delete(`${entity}:${id}`);
    for (const conflict of ops.conflictsAdd || []) this.conflictMap.set(conflict.key, structuredClone(conflict));
    for (const key of ops.conflictsDelete || []) this.conflictMap.delete(key);
    for (const blob of ops.blobsPut || []) this.blobMap.set(blob.id, blob);
    for (const id of ops.blobsDelete || []) this.blobMap.delete(id);
  }

  async clear() {
    this.clearState();
    this.meta.clear();
  }
}
