// Fieldline sync client: the phone's side of the sync protocol (SYNC_PROTOCOL.md, 1 and 1.1).
//
// No DOM and no framework: give it a storage (MemoryStorage, IndexedDBStorage or your own
// with the same methods) and a fetch, and it keeps a local replica of the user's scope and a
// durable outbox of their edits. An outbox entry is written before the edit is shown and
// removed only when the server has answered it, so a closed tab, a crash in the middle of a
// push or a reboot loses nothing; a push whose answer was lost is sent again with the same
// mutation ids, and the server answers it from its idempotency record.

export const PROTOCOL_ENTITIES = ['store', 'survey', 'visit', 'task', 'photo', 'followup'];
export const MAX_PUSH_BATCH = 500;
export const DEFAULT_PULL_LIMIT = 1000;
// Photo bytes (up to 10 MB) on a slow network take longer than a page of records.
const UPLOAD_TIMEOUT_MS = 300_000;

/** Why a sync or a request failed, in a form the app can put into words. */
export class SyncError extends Error {
  /**
   * @param {'offline'|'auth'|'upgrade'|'server'|'refused'} kind
   * @param {string} message
   * @param {{status?: number, body?: any}} [detail]
   */
  constructor(kind, message, detail = {}) {
    super(message);
    this.name = 'SyncError';
    this.kind = kind;
    this.status = detail.status ?? null;
    this.body = detail.body ?? null;
  }
}

const NO_LOCK = (name, run) => run();

/**
 * The view of a record the phone shows: the server's copy with the outbox's edits on top.
 * `_pending` counts the edits still waiting; `_rejected` holds the server's errors of a
 * refused edit (the values stay visible so the rep can correct them).
 */
export function recordWithEdits(base, entries) {
  let view = base ? { ...base } : null;
  let pending = 0;
  let rejected = null;
  for (const entry of entries) {
    if (entry.op === 'delete') {
      view = view ? { ...view, deleted: true } : null;
    } else if (entry.op === 'create') {
      view = { version: 0, deleted: false, ...(view || {}), ...entry.fields, id: entry.record_id };
    } else if (view) {
      view = { ...view, ...entry.fields };
    }
    if (entry.state === 'rejected') rejected = entry.errors;
    else pending += 1;
  }
  if (!view) return null;
  view._pending = pending;
  view._rejected = rejected;
  return view;
}

export class SyncClient {
  /**
   * @param {object} options
   * @param {object} options.storage  MemoryStorage, IndexedDBStorage or the same interface
   * @param {string} [options.baseUrl]  server origin ('' in a browser page of that origin)
   * @param {Function} [options.fetch]
   * @param {string} options.appVersion  semantic version sent as X-App-Version
   * @param {() => Date} [options.now]
   * @param {() => string} [options.newId]  UUID generator (mutation ids, record ids)
   * @param {(name: string, run: Function) => Promise} [options.lock]  cross-tab mutual
   *   exclusion (navigator.locks.request in a browser), so two tabs never push at once
   * @param {(state: object) => void} [options.onState]
   * @param {number} [options.pushBatch]
   * @param {number} [options.pullLimit]
   * @param {number} [options.timeoutMs]  a request with no answer by then counts as offline
   *   (a dead network must not hold the sync, which runs one at a time, for ever)
   */
  constructor(options) {
    this.storage = options.storage;
    this.baseUrl = options.baseUrl ?? '';
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.appVersion = options.appVersion;
    this.now = options.now ?? (() => new Date());
    this.newId = options.newId ?? (() => globalThis.crypto.randomUUID());
    this.lock = options.lock ?? NO_LOCK;
    this.onState = options.onState ?? (() => {});
    this.pushBatch = Math.min(options.pushBatch ?? MAX_PUSH_BATCH, MAX_PUSH_BATCH);
    this.pullLimit = options.pullLimit ?? DEFAULT_PULL_LIMIT;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.running = null;
    this.state = { phase: 'idle', progress: null, error: null };
  }

  // --- identity ----------------------------------------------------------------------

  /** A stable id per installation: created once, kept across sign-outs. */
  async deviceId() {
    let id = await this.storage.getMeta('device_id');
    if (!id) {
      id = this.newId();
      await this.storage.commit({ meta: { device_id: id } });
    }
    return id;
  }

  async token() {
    return this.storage.getMeta('token');
  }

  async user() {
    return this.storage.getMeta('user');
  }

  /** Exchange a username and password for a device token; nothing else is kept. */
  async signIn(username, password) {
    const answer = await this.request('POST', '/api/auth/token', {
      json: { username, password },
      anonymous: true,
    });
    const body = await readJson(answer);
    if (!answer.ok) {
      const message =
        answer.status === 429
          ? 'Too many attempts; wait a minute and try again.'
          : body?.detail || firstError(body) || 'Wrong username or password.';
      throw new SyncError('refused', message, { status: answer.status, body });
    }
    await this.storage.commit({ meta: { token: body.token, user: body.user } });
    return body.user;
  }

  /** Revoke the token on the server, then wipe the replica, the outbox and the photos. */
  async signOut({ force = false } = {}) {
    const waiting = await this.pendingCount();
    if (waiting > 0 && !force) {
      throw new SyncError('refused', `${waiting} changes are still waiting to be sent.`);
    }
    let revoked = true;
    try {
      const answer = await this.request('POST', '/api/auth/logout');
      revoked = answer.ok || answer.status === 401;
    } catch (error) {
      if (!(error instanceof SyncError && error.kind === 'offline')) throw error;
      revoked = false;
    }
    const deviceId = await this.deviceId();
    await this.storage.clear();
    await this.storage.commit({ meta: { device_id: deviceId } });
    return { revoked };
  }

  // --- HTTP ----------------------------------------------------------------------------

  /** A request to the server with the token and the 1.1 device headers. */
  async request(method, path, { json, body, headers = {}, anonymous = false, timeoutMs } = {}) {
    const sent = {
      Accept: 'application/json',
      'X-Device-Id': await this.deviceId(),
      'X-App-Version': this.appVersion,
      ...headers,
    };
    if (!anonymous) {
      const token = await this.token();
      if (token) sent.Authorization = `Token ${token}`;
      sent['X-Pending-Mutations'] = String(await this.pendingCount());
    }
    if (json !== undefined) {
      sent['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    let answer;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs ?? this.timeoutMs);
    try {
      answer = await this.fetch(this.baseUrl + path, { method, headers: sent, body, signal: abort.signal });
    } catch (error) {
      const message = abort.signal.aborted
        ? 'The server did not answer in time.'
        : 'No connection to the server.';
      throw new SyncError('offline', message, { body: String(error) });
    } finally {
      clearTimeout(timer);
    }
    if (answer.status === 426) {
      const detail = await readJson(answer);
      const needed = detail?.min_version ? ` (version ${detail.min_version} or later)` : '';
      throw new SyncError(
        'upgrade',
        `This app is older than the server accepts${needed}. Reload the app to update it; ` +
          'your waiting changes are kept.',
        { status: 426, body: detail },
      );
    }
    if (answer.status === 401 && !anonymous) {
      throw new SyncError('auth', 'Your sign-in has expired. Sign in again to sync.', {
        status: 401,
      });
    }
    return answer;
  }

  // --- local reads ---------------------------------------------------------------------

  async outbox() {
    return this.storage.outbox();
  }

  async pendingCount() {
    return (await this.storage.outbox()).filter((entry) => entry.state !== 'rejected').length;
  }

  async rejected() {
    return (await this.storage.outbox()).filter((entry) => entry.state === 'rejected');
  }

  async conflicts() {
    return this.storage.conflicts();
  }

  /** One record as the phone shows it (server copy plus waiting edits), or null. */
  async record(entity, id) {
    const [base, entries] = await Promise.all([
      this.storage.record(entity, id),
      this.storage.outbox(),
    ]);
    const view = recordWithEdits(
      base,
      entries.filter((entry) => entry.entity === entity && entry.record_id === id),
    );
    return view && !view.deleted ? view : null;
  }

  /** Every live record of an entity, or those of one store (`{store: id}`). */
  async records(entity, { store } = {}) {
    const [bases, entries] = await Promise.all([
      store ? this.storage.recordsOfStore(entity, store) : this.storage.records(entity),
      this.storage.outbox(),
    ]);
    return this.withEdits(entity, bases, entries, (view) => !store || view.store === store);
  }

  /** Several records of one entity by id, in one read (missing ones left out). */
  async recordsByIds(entity, ids) {
    const [bases, entries] = await Promise.all([
      this.storage.recordsByIds(entity, ids),
      this.storage.outbox(),
    ]);
    const wanted = new Set(ids);
    return this.withEdits(entity, bases, entries, (view) => wanted.has(view.id));
  }

  /** Visits checked in and not yet checked out, on this phone's view. */
  async openVisits() {
    const [bases, entries] = await Promise.all([this.storage.openVisits(), this.storage.outbox()]);
    const touched = new Set(entries.filter((e) => e.entity === 'visit').map((e) => e.record_id));
    // A visit checked out on the server but not here is not in the index: read those too.
    const extra = await this.storage.recordsByIds(
      'visit',
      [...touched].filter((id) => !bases.some((base) => base.id === id)),
    );
    return this.withEdits('visit', [...bases, ...extra], entries, (view) => !view.check_out_at);
  }

  withEdits(entity, bases, entries, keep) {
    const edits = new Map();
    for (const entry of entries) {
      if (entry.entity !== entity) continue;
      if (!edits.has(entry.record_id)) edits.set(entry.record_id, []);
      edits.get(entry.record_id).push(entry);
    }
    const views = [];
    for (const base of bases) {
      const view = recordWithEdits(base, edits.get(base.id) || []);
      edits.delete(base.id);
      if (view && !view.deleted && keep(view)) views.push(view);
    }
    for (const list of edits.values()) {
      const view = recordWithEdits(null, list);
      if (view && !view.deleted && keep(view)) views.push(view);
    }
    return views;
  }

  // --- local writes --------------------------------------------------------------------

  /**
   * Record an edit: it goes into the outbox first, and shows at once in `record(s)`.
   * `op` create: all fields, a new id unless given; update: only the changed fields.
   * Edits of a record whose previous edit has not been sent yet are folded into it.
   */
  async change({ entity, op, id, fields = {} }) {
    if (!['create', 'update', 'delete'].includes(op)) throw new Error(`unknown op ${op}`);
    const recordId = id ?? this.newId();
    const clientTs = this.now().toISOString();
    const entries = (await this.storage.outbox()).filter(
      (entry) => entry.entity === entity && entry.record_id === recordId,
    );
    const last = entries[entries.length - 1];
    const foldable = last && !last.attempted && last.state !== 'rejected' && last.op !== 'delete';
    if (foldable && op !== 'create') {
      if (op === 'delete' && last.op === 'create') {
        // Never sent: the record never existed for the server.
        await this.storage.commit({ outboxDelete: entries.map((entry) => entry.seq) });
      } else if (op === 'delete') {
        await this.storage.commit({
          outboxDelete: [last.seq],
          outboxAdd: [this.entry({ entity, op, recordId, baseVersion: last.base_version, clientTs })],
        });
      } else {
        const merged = { ...last, fields: { ...last.fields, ...fields }, client_ts: clientTs };
        await this.storage.commit({ outboxPut: [merged] });
      }
      this.emit();
      return recordId;
    }
    let baseVersion;
    if (op !== 'create') {
      const base = await this.storage.record(entity, recordId);
      // A record created on this phone and not yet confirmed will be at version 1.
      baseVersion = base ? base.version : 1;
    }
    await this.storage.commit({
      outboxAdd: [this.entry({ entity, op, recordId, baseVersion, fields, clientTs })],
    });
    this.emit();
    return recordId;
  }

  entry({ entity, op, recordId, baseVersion, fields, clientTs }) {
    const entry = {
      mutation_id: this.newId(),
      entity,
      op,
      record_id: recordId,
      client_ts: clientTs,
      state: 'pending',
      attempted: false,
      errors: null,
    };
    if (op !== 'delete') entry.fields = fields ?? {};
    if (op !== 'create') entry.base_version = baseVersion;
    return entry;
  }

  /** Send a refused edit again with corrected values (a new mutation; the old one goes). */
  async resend(seq, corrections = {}) {
    const entry = (await this.storage.outbox()).find((candidate) => candidate.seq === seq);
    if (!entry || entry.state !== 'rejected') throw new Error('no such refused change');
    const fresh = this.entry({
      entity: entry.entity,
      op: entry.op,
      recordId: entry.record_id,
      baseVersion: entry.base_version,
      fields: { ...entry.fields, ...corrections },
      clientTs: this.now().toISOString(),
    });
    await this.storage.commit({ outboxDelete: [seq], outboxAdd: [fresh] });
    this.emit();
  }

  /** Drop a refused edit for good. */
  async discard(seq) {
    await this.storage.commit({ outboxDelete: [seq] });
    this.emit();
  }

  async dismissConflicts() {
    const all = await this.storage.conflicts();
    await this.storage.commit({ conflictsDelete: all.map((conflict) => conflict.key) });
    this.emit();
  }

  /** Keep a photo's bytes until they are uploaded (after its record is on the server). */
  async addPhotoBytes({ id, blob, sha256, contentType }) {
    await this.storage.commit({
      blobsPut: [{ id, blob, sha256, content_type: contentType, size: blob.size }],
    });
  }

  async pendingPhotos() {
    return this.storage.blobs();
  }

  // --- sync ----------------------------------------------------------------------------

  /** Push, upload photo bytes, pull. One at a time; a call during a sync joins it. */
  async sync() {
    if (!this.running) {
      this.running = this.lock('fieldline-sync', () => this.syncOnce()).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  async syncOnce() {
    const summary = { pushed: 0, conflicts: 0, rejected: 0, pulled: 0, photos: 0, resync: false };
    try {
      this.emit({ phase: 'pushing', error: null });
      Object.assign(summary, await this.push());
      summary.photos = await this.uploadPhotos();
      this.emit({ phase: 'pulling' });
      const pulled = await this.pull();
      summary.pulled = pulled.received;
      summary.resync = pulled.resync;
      await this.storage.commit({ meta: { last_sync_at: this.now().toISOString() } });
      this.emit({ phase: 'idle', progress: null, error: null });
      return summary;
    } catch (error) {
      this.emit({ phase: 'idle', progress: null, error });
      throw error;
    }
  }

  /** Send waiting edits in order, at most `pushBatch` a request. */
  async push() {
    const outcome = { pushed: 0, conflicts: 0, rejected: 0 };
    const waiting = (await this.storage.outbox()).filter((entry) => entry.state !== 'rejected');
    const deviceId = await this.deviceId();
    for (let start = 0; start < waiting.length; start += this.pushBatch) {
      const batch = waiting.slice(start, start + this.pushBatch);
      // Marked before sending: from now on an edit is never folded into these entries,
      // which the server may already have applied if the answer is lost.
      const unmarked = batch.filter((entry) => !entry.attempted);
      if (unmarked.length) {
        await this.storage.commit({
          outboxPut: unmarked.map((entry) => ({ ...entry, attempted: true })),
        });
      }
      const answer = await this.request('POST', '/api/sync/push', {
        json: { device_id: deviceId, mutations: batch.map(wireMutation) },
      });
      const body = await readJson(answer);
      if (!answer.ok) throw httpError(answer, body);
      const results = new Map((body.results || []).map((r) => [r.mutation_id, r]));
      const ops = { outboxDelete: [], outboxPut: [], recordsPut: [], conflictsAdd: [] };
      for (const entry of batch) {
        const result = results.get(entry.mutation_id);
        if (!result) continue; // not answered: stays, and goes again next time
        if (result.status === 'rejected') {
          ops.outboxPut.push({
            ...entry,
            attempted: true,
            state: 'rejected',
            errors: result.errors || { detail: 'Refused.' },
          });
          outcome.rejected += 1;
          continue;
        }
        ops.outboxDelete.push(entry.seq);
        outcome.pushed += 1;
        if (result.record) ops.recordsPut.push({ entity: entry.entity, record: result.record });
        for (const conflict of result.conflicts || []) {
          ops.conflictsAdd.push({
            key: `${entry.mutation_id}:${conflict.field}`,
            entity: entry.entity,
            record_id: entry.record_id,
            mutation_id: entry.mutation_id,
            status: result.status,
            at: this.now().toISOString(),
            ...conflict,
          });
          outcome.conflicts += 1;
        }
      }
      await this.storage.commit(ops);
      this.emit();
    }
    return outcome;
  }

  /**
   * Photo bytes whose record the server has: `POST /upload` (1.1) then `/uploaded`, or
   * `PUT /content` on a server without it. A photo that fails stays for the next sync.
   */
  async uploadPhotos() {
    let uploaded = 0;
    for (const blob of await this.storage.blobs()) {
      const known = await this.storage.record('photo', blob.id);
      if (!known) continue; // its record has not reached the server yet
      const stored = await this.storage.blob(blob.id);
      if (!stored) continue;
      if (await this.uploadOne(stored)) {
        await this.storage.commit({ blobsDelete: [blob.id] });
        uploaded += 1;
      }
    }
    return uploaded;
  }

  async uploadOne({ id, blob, content_type: contentType }) {
    const base = `/api/photos/${id}`;
    const offer = await this.request('POST', `${base}/upload`, { json: {} });
    if (offer.ok) {
      const target = await readJson(offer);
      let sent;
      try {
        const origin = this.baseUrl || globalThis.location?.origin || '';
        const path = target.url.startsWith('/')
          ? target.url
          : origin && target.url.startsWith(`${origin}/`)
            ? target.url.slice(origin.length)
            : null;
        const headers = { 'Content-Type': contentType, ...(target.headers || {}) };
        if (path) {
          // Our own server (local storage): with the token and device headers.
          sent = await this.request(target.method || 'PUT', path, { body: blob, headers, timeoutMs: UPLOAD_TIMEOUT_MS });
        } else {
          sent = await this.fetch(target.url, { method: target.method || 'PUT', body: blob, headers });
        }
      } catch (error) {
        if (error instanceof SyncError && error.kind !== 'offline') throw error;
        return false;
      }
      if (!sent.ok) return false;
      const done = await this.request('POST', `${base}/uploaded`, { json: {} });
      return done.ok;
    }
    if (offer.status !== 404 && offer.status !== 405) return false;
    const put = await this.request('PUT', `${base}/content`, {
      body: blob,
      headers: { 'Content-Type': contentType },
      timeoutMs: UPLOAD_TIMEOUT_MS,
    });
    return put.status === 200 || put.status === 201;
  }

  /**
   * Follow the cursor until `has_more` is false, saving each page with its cursor in one
   * commit (a cut-off walk resumes there). 410: drop the replica and start from no cursor;
   * the outbox is kept and was pushed just before.
   */
  async pull() {
    let cursor = await this.storage.getMeta('cursor');
    let received = 0;
    let resync = false;
    for (;;) {
      const query = new URLSearchParams({ limit: String(this.pullLimit) });
      if (cursor) query.set('cursor', cursor);
      const answer = await this.request('GET', `/api/sync/pull?${query}`);
      const body = await readJson(answer);
      if (answer.status === 410 && !resync) {
        resync = true;
        cursor = null;
        await this.storage.commit({ recordsClear: true, meta: { cursor: null } });
        continue;
      }
      if (!answer.ok) throw httpError(answer, body);
      const ops = { recordsPut: [], recordsDelete: [], meta: { cursor: body.cursor } };
      for (const change of body.changes || []) {
        if (change.op === 'delete') ops.recordsDelete.push({ entity: change.entity, id: change.id });
        else ops.recordsPut.push({ entity: change.entity, record: change.record });
      }
      await this.storage.commit(ops);
      received += (body.changes || []).length;
      cursor = body.cursor;
      this.emit({ progress: pullProgress(body, received) });
      if (!body.has_more) break;
    }
    return { received, resync };
  }

  // --- state -----------------------------------------------------------------------------

  emit(change = {}) {
    Object.assign(this.state, change);
    this.onState({ ...this.state });
  }
}

/** Progress of a walk: the server's (1.1) when it sends one, else what was received. */
export function pullProgress(body, received) {
  if (body.progress) {
    const { tier, tier_complete: tierComplete, estimated_total: total } = body.progress;
    return {
      received: body.progress.received ?? received,
      total: total ?? null,
      tier: tier ?? null,
      tierComplete: Boolean(tierComplete),
      done: !body.has_more,
    };
  }
  return { received, total: null, tier: null, tierComplete: false, done: !body.has_more };
}

function wireMutation(entry) {
  const mutation = {
    mutation_id: entry.mutation_id,
    entity: entry.entity,
    op: entry.op,
    record_id: entry.record_id,
    client_ts: entry.client_ts,
  };
  if (entry.op !== 'create') mutation.base_version = entry.base_version;
  if (entry.op !== 'delete') mutation.fields = entry.fields;
  return mutation;
}

async function readJson(answer) {
  try {
    return await answer.json();
  } catch {
    return null;
  }
}

function firstError(body) {
  if (!body || typeof body !== 'object') return null;
  for (const messages of Object.values(body)) {
    if (Array.isArray(messages) && messages.length) return String(messages[0]);
  }
  return null;
}

function httpError(answer, body) {
  if (answer.status >= 500 || answer.status === 429) {
    return new SyncError('server', 'The server is busy or unavailable; trying again later.', {
      status: answer.status,
      body,
    });
  }
  const message = body?.detail || firstError(body) || `The server refused (${answer.status}).`;
  return new SyncError('refused', message, { status: answer.status, body });
}
