// A small in-process server speaking the sync protocol, for the sync client's unit tests:
// idempotent push with per-field versions, a changelog cursor with an epoch (410 when it
// changes), paging, and switches to lose answers, refuse old apps or lack photo uploads.

export class FakeServer {
  constructor({ uploadEndpoints = true, minVersion = null } = {}) {
    this.records = new Map(); // `${entity}:${id}` -> {entity, record, fieldVersions}
    this.log = []; // {seq, entity, id}
    this.seq = 0;
    this.epoch = 1;
    this.answered = new Map(); // mutation_id -> result
    this.applied = []; // mutation ids in the order they were applied (once each)
    this.requests = [];
    this.loseNextAnswers = 0;
    this.uploadEndpoints = uploadEndpoints;
    this.minVersion = minVersion;
    this.photoBytes = new Map();
    this.token = 'token-1';
    this.revoked = false;
  }

  serverEdit(entity, id, fields) {
    const key = `${entity}:${id}`;
    const held = this.records.get(key);
    const version = held ? held.record.version + 1 : 1;
    const record = { ...(held?.record || { id, deleted: false }), ...fields, version };
    const fieldVersions = { ...(held?.fieldVersions || {}) };
    for (const name of Object.keys(fields)) fieldVersions[name] = version;
    this.records.set(key, { entity, record, fieldVersions });
    this.log.push({ seq: ++this.seq, entity, id });
    return record;
  }

  serverDelete(entity, id) {
    this.records.delete(`${entity}:${id}`);
    this.log.push({ seq: ++this.seq, entity, id });
  }

  applyMutation(mutation) {
    const { entity, op, record_id: id, fields = {}, base_version: base } = mutation;
    if (fields.footfall_weekday !== undefined && fields.footfall_weekday < 0) {
      return { status: 'rejected', errors: { footfall_weekday: ['Ensure this value is greater than or equal to 0.'] } };
    }
    const key = `${entity}:${id}`;
    const held = this.records.get(key);
    if (op === 'delete') {
      if (!held) return { status: 'rejected', errors: { detail: 'not found' } };
      this.serverDelete(entity, id);
      return { status: 'applied', record: { ...held.record, deleted: true } };
    }
    if (op === 'update' && !held) return { status: 'rejected', errors: { detail: 'not found' } };
    const conflicts = [];
    if (op === 'update') {
      for (const [name, value] of Object.entries(fields)) {
        if ((held.fieldVersions[name] || 0) > base) {
          conflicts.push({ field: name, client_value: value, server_value: held.record[name], kept: 'client' });
        }
      }
    }
    const record = this.serverEdit(entity, id, fields);
    return { status: conflicts.length ? 'conflict' : 'applied', record, conflicts };
  }

  pullPage(cursor, limit) {
    let after = 0;
    if (cursor) {
      const [epoch, seq] = cursor.split(':').map(Number);
      if (epoch !== this.epoch) return [410, { detail: 'resync' }];
      after = seq;
    }
    // Compact: each record once, at its latest state, ordered by its last change.
    const latest = new Map();
    for (const entry of this.log) if (entry.seq > after) latest.set(`${entry.entity}:${entry.id}`, entry);
    const ordered = [...latest.values()].sort((a, b) => a.seq - b.seq);
    const page = ordered.slice(0, limit);
    const changes = page.map((entry) => {
      const held = this.records.get(`${entry.entity}:${entry.id}`);
      return held
        ? { entity: entry.entity, op: 'upsert', record: held.record }
        : { entity: entry.entity, op: 'delete', id: entry.id };
    });
    const last = page.length ? page[page.length - 1].seq : after;
    return [200, { changes, cursor: `${this.epoch}:${last}`, has_more: ordered.length > limit }];
  }

  /** A `fetch` bound to this server. */
  fetch = async (url, init = {}) => {
    const parsed = new URL(url, 'http://server.test');
    const method = init.method || 'GET';
    const headers = init.headers || {};
    this.requests.push({ method, path: parsed.pathname, search: parsed.search, headers });
    const json = (status, body) =>
      new Response(body === undefined ? null : JSON.stringify(body), {
        status,
        headers: { 'Content-Type': 'application/json' },
      });
    if (parsed.pathname === '/api/auth/token') return json(200, { token: this.token, user: { id: 7, username: 'rep', role: 'rep' } });
    if (headers.Authorization !== `Token ${this.token}` || this.revoked) return json(401, { detail: 'Invalid token.' });
    if (this.minVersion && parsed.pathname.startsWith('/api/sync/') && headers['X-App-Version'] < this.minVersion) {
      return json(426, { detail: 'upgrade', min_version: this.minVersion });
    }
    if (parsed.pathname === '/api/auth/logout') {
      this.revoked = true;
      return json(204);
    }
    if (parsed.pathname === '/api/sync/push') {
      const body = JSON.parse(init.body);
      this.requests.at(-1).mutations = body.mutations.length;
      if (body.mutations.length > 500) return json(413, { detail: 'At most 500 mutations.' });
      const results = body.mutations.map((mutation) => {
        if (!this.answered.has(mutation.mutation_id)) {
          this.answered.set(mutation.mutation_id, this.applyMutation(mutation));
          this.applied.push(mutation.mutation_id);
        }
        return { mutation_id: mutation.mutation_id, ...this.answered.get(mutation.mutation_id) };
      });
      if (this.loseNextAnswers > 0) {
        this.loseNextAnswers -= 1;
        throw new TypeError('Failed to fetch'); // applied, but the answer never arrives
      }
      return json(200, { results, cursor: `${this.epoch}:${this.seq}` });
    }
    if (parsed.pathname === '/api/sync/pull') {
      const [status, body] = this.pullPage(parsed.searchParams.get('cursor'), Number(parsed.searchParams.get('limit') || 1000));
      return json(status, body);
    }
    const photo = parsed.pathname.match(/^\/api\/photos\/([^/]+)\/(upload|uploaded|content)$/);
    if (photo) {
      const [, id, action] = photo;
      if (!this.records.has(`photo:${id}`)) return json(404, { detail: 'Not found.' });
      if (action === 'upload') {
        if (!this.uploadEndpoints) return json(404, { detail: 'Not found.' });
        return json(200, { method: 'PUT', url: `/api/photos/${id}/content`, headers: {}, expires_at: '2030-01-01T00:00:00Z' });
      }
      if (action === 'uploaded') return json(this.photoBytes.has(id) ? 200 : 400, {});
      const bytes = new Uint8Array(await new Response(init.body).arrayBuffer());
      const existed = this.photoBytes.has(id);
      this.photoBytes.set(id, bytes);
      return json(existed ? 200 : 201, { id, size_bytes: bytes.length });
    }
    return json(404, { detail: 'Not found.' });
  };
}
