'use strict'
// A stock WatermelonDB app for Fieldline, headless: LokiJS in memory, models without
// decorators, and the library's own synchronize() with the two fetch calls of its docs.

const crypto = require('node:crypto')
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb')
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default
const { synchronize } = require('@nozbe/watermelondb/sync')
const { setGenerator } = require('@nozbe/watermelondb/utils/common/randomId')
const logger = require('@nozbe/watermelondb/utils/common/logger').default

// Fieldline's record ids are UUIDs made on the phone.
setGenerator(() => crypto.randomUUID())

// WatermelonDB reports what it finds odd during a sync (a record sent as `created` that
// exists, a table it does not know) through its logger: kept here for tests to check.
const diagnostics = []
for (const level of ['error', 'warn']) {
  const original = logger[level].bind(logger)
  logger[level] = (...messages) => {
    const text = messages.map(String).join(' ')
    if (/sync/i.test(text)) diagnostics.push(text)
    else original(...messages)
  }
}

const string = (name, extra = {}) => ({ name, type: 'string', ...extra })
const number = (name, extra = {}) => ({ name, type: 'number', ...extra })
const optional = { isOptional: true }
const bookkeeping = [number('version'), number('updated_at')]

const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'stores',
      columns: [
        string('name'),
        string('phone'),
        string('address'),
        number('lat'),
        number('lon'),
        string('region'),
        number('owner', optional),
        string('status'),
        string('trade_area_type'),
        string('grade'),
        string('segment'),
        string('tags'),
        string('opening_hours'),
        ...bookkeeping,
      ],
    }),
    tableSchema({
      name: 'surveys',
      columns: [
        string('store', { isIndexed: true }),
        string('trade_area_type'),
        number('footfall_weekday', optional),
        number('footfall_weekend', optional),
        string('customer_groups'),
        string('competitors'),
        number('area_m2', optional),
        string('equipment'),
        string('captured_at', optional),
        string('notes'),
        string('review_status'),
        ...bookkeeping,
      ],
    }),
    tableSchema({
      name: 'visits',
      columns: [
        string('store', { isIndexed: true }),
        string('purpose'),
        string('check_in_at'),
        number('check_in_lat', optional),
        number('check_in_lon', optional),
        string('check_out_at', optional),
        string('notes'),
        string('outcome'),
        string('geofence'),
        number('distance_m', optional),
        ...bookkeeping,
      ],
    }),
    tableSchema({
      name: 'tasks',
      columns: [
        string('store', { isIndexed: true }),
        number('assignee'),
        string('type'),
        string('title'),
        string('status'),
        number('priority'),
        string('due_date', optional),
        string('notes'),
        ...bookkeeping,
      ],
    }),
    tableSchema({
      name: 'photos',
      columns: [
        string('survey', optional),
        string('visit', optional),
        string('section'),
        string('sha256'),
        string('content_type'),
        string('taken_at', optional),
        ...bookkeeping,
      ],
    }),
    tableSchema({
      name: 'followups',
      columns: [
        string('store', { isIndexed: true }),
        string('visit', optional),
        string('due_date'),
        string('note'),
        { name: 'done', type: 'boolean' },
        ...bookkeeping,
      ],
    }),
  ],
})

class Store extends Model {
  static table = 'stores'
}
class Survey extends Model {
  static table = 'surveys'
}
class Visit extends Model {
  static table = 'visits'
}
class Task extends Model {
  static table = 'tasks'
}
class Photo extends Model {
  static table = 'photos'
}
class FollowUp extends Model {
  static table = 'followups'
}
const modelClasses = [Store, Survey, Visit, Task, Photo, FollowUp]
const TABLES = Object.keys(schema.tables)

const settings = {
  url: (process.env.FIELDLINE_URL || '').replace(/\/$/, ''),
  rep: process.env.FIELDLINE_REP,
  otherRep: process.env.FIELDLINE_OTHER_REP,
  manager: process.env.FIELDLINE_MANAGER,
  password: process.env.FIELDLINE_PASSWORD,
}

async function api(method, path, { token, body } = {}) {
  const headers = { Accept: 'application/json' }
  if (token) headers.Authorization = `Token ${token}`
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(`${settings.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  if (!response.ok) {
    throw new Error(`${method} ${path}: ${response.status} ${text}`)
  }
  return text ? JSON.parse(text) : null
}

async function login(username) {
  const { token } = await api('POST', '/api/auth/token', {
    body: { username, password: settings.password },
  })
  const me = await api('GET', '/api/me', { token })
  return { token, user: me }
}

// One phone: its own in-memory database, its token and its device id.
function makeDevice(name, session) {
  const adapter = new LokiJSAdapter({
    schema,
    dbName: `${name}-${crypto.randomUUID()}`,
    useWebWorker: false,
    useIncrementalIndexedDB: false,
    extraLokiOptions: { autosave: false },
  })
  const database = new Database({ adapter, modelClasses })
  const deviceId = `${name}-${crypto.randomUUID().slice(0, 8)}`
  return { name, database, deviceId, token: session.token, user: session.user }
}

// Exactly the two calls WatermelonDB's sync documentation shows, pointed at Fieldline.
// `beforePush` lets a test act between this device's pull and its push.
async function sync(device, { beforePush } = {}) {
  const endpoint = `${settings.url}/api/sync/watermelon`
  const headers = { Authorization: `Token ${device.token}`, 'X-Device-Id': device.deviceId }
  await synchronize({
    database: device.database,
    pullChanges: async ({ lastPulledAt, schemaVersion, migration }) => {
      const query =
        `last_pulled_at=${lastPulledAt}&schema_version=${schemaVersion}` +
        `&migration=${encodeURIComponent(JSON.stringify(migration))}`
      const response = await fetch(`${endpoint}?${query}`, { headers })
      if (!response.ok) {
        throw new Error(`pull: ${response.status} ${await response.text()}`)
      }
      const { changes, timestamp } = await response.json()
      return { changes, timestamp }
    },
    pushChanges: async ({ changes, lastPulledAt }) => {
      if (beforePush) await beforePush()
      const response = await fetch(`${endpoint}?last_pulled_at=${lastPulledAt}`, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/json' },
        body: JSON.stringify({ changes }),
      })
      if (!response.ok) {
        throw new Error(`push: ${response.status} ${await response.text()}`)
      }
    },
  })
}

async function all(device, table) {
  return device.database.get(table).query().fetch()
}

async function find(device, table, id) {
  const records = await all(device, table)
  return records.find((record) => record.id === id)
}

async function create(device, table, values) {
  return device.database.write(async () =>
    device.database.get(table).create((record) => {
      for (const [column, value] of Object.entries(values)) record._setRaw(column, value)
    }),
  )
}

async function update(device, record, values) {
  return device.database.write(async () =>
    record.update((r) => {
      for (const [column, value] of Object.entries(values)) r._setRaw(column, value)
    }),
  )
}

// A table's rows as plain objects by id, without WatermelonDB's own bookkeeping.
async function snapshot(device, table) {
  const rows = {}
  for (const record of await all(device, table)) {
    const { _status, _changed, ...columns } = record._raw
    rows[record.id] = columns
  }
  return rows
}

async function unsynced(device) {
  const pending = []
  for (const table of TABLES) {
    for (const record of await all(device, table)) {
      if (record._raw._status !== 'synced') pending.push(`${table}#${record.id}`)
    }
  }
  return pending
}

module.exports = {
  TABLES,
  api,
  create,
  diagnostics,
  find,
  all,
  login,
  makeDevice,
  settings,
  snapshot,
  sync,
  unsynced,
  update,
}
