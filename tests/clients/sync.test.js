'use strict'
// Two phones of one rep, each a stock WatermelonDB database, sync with a live Fieldline
// server through WatermelonDB's own synchronize(). The scenarios run in order and share
// the server's data; tests/clients/test_watermelon_client.py sets the server up.

const assert = require('node:assert/strict')
const { before, test } = require('node:test')
const {
  TABLES,
  api,
  create,
  diagnostics,
  find,
  login,
  makeDevice,
  settings,
  snapshot,
  sync,
  unsynced,
  update,
} = require('./fieldline')

const state = {}

async function syncAll(...devices) {
  for (const device of devices) await sync(device)
}

async function assertConverged(a, b) {
  for (const table of TABLES) {
    assert.deepEqual(await snapshot(a, table), await snapshot(b, table), table)
  }
  assert.deepEqual(await unsynced(a), [])
  assert.deepEqual(await unsynced(b), [])
}

before(async () => {
  for (const [name, value] of Object.entries(settings)) {
    assert.ok(value, `FIELDLINE_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()} is not set`)
  }
  state.a = makeDevice('phone-a', await login(settings.rep))
  state.b = makeDevice('phone-b', await login(settings.rep))
  state.manager = await login(settings.manager)
  state.otherRep = await login(settings.otherRep)
})

test('a first sync brings the rep their scope on both phones', async () => {
  const { a, b } = state
  await syncAll(a, b)
  const stores = Object.values(await snapshot(a, 'stores'))
  assert.ok(stores.length >= 2, 'the rep has stores')
  for (const store of stores) assert.equal(store.owner, a.user.id)
  state.stores = stores.map((store) => store.id).sort()
  const surveys = Object.values(await snapshot(a, 'surveys'))
  assert.ok(surveys.length >= 2, 'the rep has surveys')
  for (const survey of surveys) {
    assert.ok(state.stores.includes(survey.store))
    assert.ok(Array.isArray(JSON.parse(survey.equipment)), 'lists arrive as JSON strings')
  }
  await assertConverged(a, b)
})

test('surveys and visits made offline on both phones converge', async () => {
  const { a, b } = state
  const [first, second] = state.stores
  const surveys = Object.values(await snapshot(a, 'surveys'))
  const survey = await create(a, 'surveys', {
    store: first,
    footfall_weekday: 120,
    equipment: JSON.stringify(['microwave', 'oven']),
    notes: 'new survey from phone a',
  })
  const visitA = await create(a, 'visits', {
    store: first,
    purpose: 'routine',
    check_in_at: '2026-11-30T08:00:00.000Z',
    check_out_at: '2026-11-30T08:25:00.000Z',
    notes: 'visit from phone a',
  })
  const visitB = await create(b, 'visits', {
    store: second,
    purpose: 'survey',
    check_in_at: '2026-11-30T09:30:00.000Z',
    check_out_at: '2026-11-30T09:50:00.000Z',
    notes: 'visit from phone b',
  })
  await update(a, await find(a, 'surveys', surveys[0].id), { notes: 'edited on phone a' })
  await update(b, await find(b, 'surveys', surveys[1].id), { footfall_weekend: 640 })

  await syncAll(a, b, a, b)

  await assertConverged(a, b)
  for (const device of [a, b]) {
    assert.equal((await find(device, 'surveys', survey.id))._raw.footfall_weekday, 120)
    assert.equal((await find(device, 'visits', visitA.id))._raw.notes, 'visit from phone a')
    assert.equal((await find(device, 'visits', visitB.id))._raw.notes, 'visit from phone b')
    assert.equal((await find(device, 'surveys', surveys[0].id))._raw.notes, 'edited on phone a')
    assert.equal((await find(device, 'surveys', surveys[1].id))._raw.footfall_weekend, 640)
  }
  const onServer = await api('GET', `/api/surveys/${survey.id}/`, { token: a.token })
  assert.deepEqual(onServer.equipment.sort(), ['microwave', 'oven'])
  assert.equal((await find(a, 'surveys', survey.id))._raw.version, 1)
})

test('a record created on one phone appears on the other', async () => {
  const { a, b } = state
  const followup = await create(b, 'followups', {
    store: state.stores[0],
    due_date: '2026-12-24',
    note: 'bring the new price list',
  })
  await syncAll(b, a)
  const seen = await find(a, 'followups', followup.id)
  assert.ok(seen, 'phone a has the follow-up')
  assert.equal(seen._raw.note, 'bring the new price list')
  assert.equal(seen._raw.done, false)
  await sync(b)
  await assertConverged(a, b)
})

test("a manager's REST edit of a store reaches both phones", async () => {
  const { a, b, manager } = state
  const store = state.stores[0]
  const edited = await api('PATCH', `/api/stores/${store}/`, {
    token: manager.token,
    body: { grade: 'A', tags: ['vip', 'corner'] },
  })
  await syncAll(a, b)
  for (const device of [a, b]) {
    const raw = (await find(device, 'stores', store))._raw
    assert.equal(raw.grade, 'A')
    assert.deepEqual(JSON.parse(raw.tags).sort(), ['corner', 'vip'])
    assert.equal(raw.version, edited.version)
  }
})

test('concurrent edits of different fields of one survey are both kept', async () => {
  const { a, b } = state
  const surveyId = Object.keys(await snapshot(a, 'surveys')).sort()[0]
  await update(a, await find(a, 'surveys', surveyId), { notes: 'shelf space doubled' })
  await update(b, await find(b, 'surveys', surveyId), { area_m2: 85.5 })
  // Phone a's edit reaches the server after phone b pulled and before it pushes its whole
  // row, so the server has to merge the two, field by field.
  await sync(b, { beforePush: () => sync(a) })
  await syncAll(a, b)
  for (const device of [a, b]) {
    const raw = (await find(device, 'surveys', surveyId))._raw
    assert.equal(raw.notes, 'shelf space doubled')
    assert.equal(raw.area_m2, 85.5)
  }
  const onServer = await api('GET', `/api/surveys/${surveyId}/`, { token: a.token })
  assert.equal(onServer.notes, 'shelf space doubled')
  assert.equal(onServer.area_m2, 85.5)
  await assertConverged(a, b)
})

test('a refused record stays local until it is corrected', async () => {
  const { a, b } = state
  const survey = await create(a, 'surveys', {
    store: state.stores[0],
    footfall_weekday: -5,
    notes: 'typo in the footfall',
  })
  await assert.rejects(sync(a), /push: 409 .*footfall_weekday/)
  assert.equal((await find(a, 'surveys', survey.id))._raw._status, 'created')
  await update(a, await find(a, 'surveys', survey.id), { footfall_weekday: 5 })
  await syncAll(a, b, a)
  assert.equal((await find(b, 'surveys', survey.id))._raw.footfall_weekday, 5)
  await assertConverged(a, b)
})

test("a store reassigned to another rep leaves the old rep's phones", async () => {
  const { a, b, manager, otherRep } = state
  const store = state.stores[1]
  const children = {}
  for (const table of ['surveys', 'visits']) {
    const rows = Object.values(await snapshot(a, table))
    children[table] = rows.filter((row) => row.store === store).map((row) => row.id)
    assert.ok(children[table].length > 0, `the store has ${table}`)
  }
  await api('PATCH', `/api/stores/${store}/`, {
    token: manager.token,
    body: { owner: otherRep.user.id },
  })
  await syncAll(a, b)
  for (const device of [a, b]) {
    assert.equal(await find(device, 'stores', store), undefined)
    for (const [table, ids] of Object.entries(children)) {
      for (const id of ids) assert.equal(await find(device, table, id), undefined, table)
    }
    assert.ok(await find(device, 'stores', state.stores[0]), 'the other store stays')
  }
  const newOwner = makeDevice('phone-c', otherRep)
  await sync(newOwner)
  assert.ok(await find(newOwner, 'stores', store), 'the new owner has it')
  for (const id of children.surveys) assert.ok(await find(newOwner, 'surveys', id))
  await assertConverged(a, b)
})

test('WatermelonDB logged no sync diagnostics', () => {
  assert.deepEqual(diagnostics, [])
})
