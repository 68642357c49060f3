// The app's screens. Each is a class with `render()` returning its content (read from the
// local replica, so every screen opens offline), and `refreshAfterSync()` saying whether
// a finished sync may redraw it (never while the rep is typing).

import { SyncError } from '../sync/client.js';
import {
  field,
  formatDate,
  formatDateTime,
  formatDistance,
  add,
  h,
  replaceChildren,
  showFieldError,
  today,
  uid,
} from './dom.js';
import { distanceM, routeOrder, visitFence } from './geo.js';
import {
  errorsText,
  fieldLabel,
  heading,
  label,
  storeLink,
  valueText,
} from './screen-parts.js';
import { SurveyForm } from './survey-form.js';
import { FIELD_BY_NAME, TRADE_AREA_TYPES, validateNewStore } from './survey-rules.js';

const ACTIVE_TASK_STATUSES = ['open', 'accepted', 'in_progress'];
const TASK_STATUSES = [
  ['open', 'Open'],
  ['accepted', 'Accepted'],
  ['in_progress', 'In progress'],
  ['done', 'Done'],
];
const TASK_TYPES = {
  survey: 'Site survey',
  visit: 'Visit',
  new_product: 'New product',
  reactivation: 'Reactivation',
  review_fix: 'Fix a reviewed survey',
  callback: 'Callback',
};
const VISIT_PURPOSES = [
  ['routine', 'Routine'],
  ['survey', 'Site survey'],
  ['new_product', 'New product'],
  ['reactivation', 'Reactivation'],
  ['complaint', 'Complaint'],
];
const REVIEW_STATUS = {
  pending: 'Waiting for review',
  approved: 'Approved',
  has_issues: 'Has issues',
  rejected: 'Rejected',
};
const ENTITY_NAMES = {
  store: 'store',
  survey: 'survey',
  visit: 'visit',
  task: 'task',
  photo: 'photo',
  followup: 'follow-up',
};
async function storesById(app) {
  const stores = await app.client.records('store');
  return new Map(stores.map((store) => [store.id, store]));
}

// --- sign in ----------------------------------------------------------------------------

class SignIn {
  title = 'Sign in';

  constructor(app) {
    this.app = app;
  }

  async render() {
    const previous = await this.app.client.user();
    const waiting = (await this.app.client.outbox()).length;
    const username = h('input', { name: 'username', autocomplete: 'username', autocapitalize: 'none', required: true, value: previous?.username ?? '' });
    const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const message = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const button = h('button', { type: 'submit', class: 'button primary wide' }, 'Sign in');
    const form = h(
      'form',
      {
        class: 'card form',
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          message.hidden = true;
          if (!username.value.trim() || !password.value) {
            message.textContent = 'Enter your username and password.';
            message.hidden = false;
            return;
          }
          button.disabled = true;
          button.textContent = 'Signing in…';
          try {
            if (previous && previous.username !== username.value.trim()) {
              // Another person on this phone: nothing of the previous one stays.
              await this.app.client.storage.clear();
              this.app.firstSyncDone = false;
            }
            await this.app.client.signIn(username.value.trim(), password.value);
            this.app.go('#/day');
            this.app.syncNow();
          } catch (error) {
            message.textContent =
              error instanceof SyncError && error.kind === 'offline'
                ? 'No connection: signing in needs the network once.'
                : error.message;
            message.hidden = false;
            button.disabled = false;
            button.textContent = 'Sign in';
          }
        },
      },
      field('Username', username),
      field('Password', password),
      message,
      button,
    );
    return h(
      'section',
      { class: 'screen signin' },
      heading('Sign in'),
      previous && waiting
        ? h('p', { class: 'notice warn' }, `Your sign-in has expired. Sign in again to send your ${waiting} waiting changes; they are kept on this phone.`)
        : h('p', { class: 'lead' }, 'Your day, your stores, surveys and visits — with or without a network.'),
      form,
    );
  }

  mounted() {
    document.querySelector('input[name=username]')?.focus();
  }
}

// --- first sync -------------------------------------------------------------------------

class FirstSync {
  title = 'Getting your stores';

  constructor(app) {
    this.app = app;
    this.line = h('p', { class: 'lead', id: 'first-sync-progress' }, 'Connecting…');
    this.bar = h('progress', { class: 'wide', 'aria-labelledby': 'first-sync-progress' });
  }

  async render() {
    const offline = !navigator.onLine;
    return h(
      'section',
      { class: 'screen' },
      heading('Getting your stores'),
      offline ? h('p', { class: 'notice warn' }, 'Offline: the first sync starts as soon as there is a network.') : null,
      h('div', { class: 'card' }, this.line, this.bar),
      h('p', { class: 'muted' }, 'Your open tasks and their stores come first, so you can start while the rest arrives.'),
    );
  }

  onProgress(progress) {
    if (progress.total) {
      this.bar.max = progress.total;
      this.bar.value = Math.min(progress.received, progress.total);
      this.line.textContent = `Received ${progress.received.toLocaleString()} of about ${progress.total.toLocaleString()} records`;
    } else {
      this.bar.removeAttribute('value');
      this.line.textContent = `Received ${progress.received.toLocaleString()} records`;
    }
  }

  refreshAfterSync() {
    return true;
  }
}

// --- the day ----------------------------------------------------------------------------

class Day {
  title = 'Today';

  constructor(app) {
    this.app = app;
  }

  /** Online: the server's route (GET /api/me/day). Offline: the replica's open tasks, put
   * in route order here from the current (or last known) position. */
  async render() {
    const app = this.app;
    let position = await app.lastPosition();
    if (!position) {
      const fix = await app.locate({ maximumAge: 300_000, timeout: 4000 });
      if (!fix.error) position = fix;
    }
    let stops = null;
    let source = 'phone';
    if (app.online && navigator.onLine && position) {
      try {
        const query = new URLSearchParams({ lat: position.lat, lon: position.lon });
        const answer = await app.client.request('GET', `/api/me/day?${query}`);
        if (answer.ok) {
          const plan = await answer.json();
          await app.client.storage.commit({ meta: { day_plan: plan } });
          stops = plan.stops.map((stop) => ({ taskId: stop.task.id, storeId: stop.store.id, leg: stop.leg_m }));
          source = 'server';
        }
      } catch {
        // Offline after all: the phone's own order below.
      }
    }
    const tasks = await this.openTasks();
    const taskById = new Map(tasks.map((task) => [task.id, task]));
    const storeIds = [...new Set([...tasks.map((task) => task.store), ...(stops || []).map((stop) => stop.storeId)])];
    const stores = new Map((await app.client.recordsByIds('store', storeIds)).map((store) => [store.id, store]));
    if (stops) {
      // Tasks changed on this phone since (done, new) count as the phone sees them.
      stops = stops.filter((stop) => taskById.has(stop.taskId));
      const listed = new Set(stops.map((stop) => stop.taskId));
      for (const task of tasks) if (!listed.has(task.id)) stops.push({ taskId: task.id, storeId: task.store, leg: null });
    } else {
      const located = tasks.filter((task) => stores.has(task.store));
      const start = position || (located.length ? stores.get(located[0].store) : null);
      const plan = await app.client.storage.getMeta('day_plan');
      let order;
      if (plan && start && plan.date === today() && distanceM(plan.start.lat, plan.start.lon, start.lat, start.lon) < 200) {
        // Still where the server planned from: its order, with tasks new since at the end.
        const rank = new Map(plan.stops.map((stop, index) => [stop.task.id, index]));
        order = located
          .map((task, index) => [rank.get(task.id) ?? plan.stops.length + index, index])
          .sort((a, b) => a[0] - b[0])
          .map(([, index]) => index);
        source = 'last plan';
      } else {
        order = start ? await cachedRoute(app, start, located, stores) : located.map((_, i) => i);
      }
      let at = start;
      stops = order.map((index) => {
        const store = stores.get(located[index].store);
        const leg = at ? distanceM(at.lat, at.lon, store.lat, store.lon) : null;
        at = store;
        return { taskId: located[index].id, storeId: store.id, leg };
      });
    }
    const locateButton = h(
      'button',
      {
        type: 'button',
        class: 'button small',
        onclick: async () => {
          locateButton.disabled = true;
          locateButton.textContent = 'Locating…';
          const fix = await app.locate({ maximumAge: 0 });
          if (fix.error) {
            locateButton.textContent = 'Route from here';
            locateButton.disabled = false;
            app.toast(fix.error);
          } else app.route();
        },
      },
      'Route from here',
    );
    const list = stops.length
      ? h(
          'ol',
          { class: 'stops' },
          stops.map((stop, index) => {
            const task = taskById.get(stop.taskId);
            const store = stores.get(stop.storeId);
            if (!task || !store) return null;
            return h(
              'li',
              { class: 'stop card' },
              h('span', { class: 'stop-number', 'aria-hidden': 'true' }, String(index + 1)),
              h(
                'div',
                { class: 'stop-body' },
                storeLink(store),
                h('p', { class: 'stop-task' }, task.title || TASK_TYPES[task.type] || task.type),
                h(
                  'p',
                  { class: 'meta' },
                  [TASK_TYPES[task.type], label(TASK_STATUSES, task.status), task.due_date ? `due ${formatDate(task.due_date)}` : null, stop.leg != null ? formatDistance(stop.leg) : null]
                    .filter(Boolean)
                    .join(' · '),
                ),
                store.address ? h('p', { class: 'meta' }, store.address) : null,
              ),
            );
          }),
        )
      : h('p', { class: 'empty card' }, 'No open tasks for today. Your stores are under Stores.');
    return h(
      'section',
      { class: 'screen' },
      heading('Today', locateButton),
      h(
        'p',
        { class: 'muted' },
        `${stops.length} ${stops.length === 1 ? 'stop' : 'stops'} in route order`,
        source === 'server'
          ? ' (planned by the server)'
          : source === 'last plan'
            ? ' (the last plan; you are still near its start)'
            : position
              ? ' from your last position'
              : '',
        '.',
      ),
      list,
    );
  }

  async openTasks() {
    const user = this.app.user;
    const now = today();
    return (await this.app.client.records('task')).filter(
      (task) =>
        (task.assignee === user.id || task.assignee == null) &&
        ACTIVE_TASK_STATUSES.includes(task.status) &&
        (!task.due_date || task.due_date <= now),
    );
  }

  refreshAfterSync() {
    return true;
  }
}

/**
 * The local route order, kept with what it was computed from (the start to within 50 m,
 * the tasks and their stores): reopening the day offline does not plan it again.
 */
async function cachedRoute(app, start, tasks, stores) {
  const key = JSON.stringify([
    Math.round(start.lat * 2000),
    Math.round(start.lon * 1200),
    tasks.map((task) => `${task.id}@${task.store}`),
  ]);
  const cached = app.routeCache ?? (await app.client.storage.getMeta('day_route'));
  if (cached && cached.key === key) return cached.order;
  const order = routeOrder(start, tasks.map((task) => stores.get(task.store)));
  app.routeCache = { key, order };
  await app.client.storage.commit({ meta: { day_route: app.routeCache } });
  return order;
}

// --- stores -----------------------------------------------------------------------------

class Stores {
  title = 'Stores';

  constructor(app, params, query) {
    this.app = app;
    this.query = query.get('q') || '';
  }

  async render() {
    this.stores = (await this.app.client.records('store')).sort((a, b) => a.name.localeCompare(b.name));
    this.position = await this.app.lastPosition();
    this.list = h('ul', { class: 'store-list' });
    this.count = h('p', { class: 'muted', 'aria-live': 'polite' });
    const search = h('input', {
      type: 'search',
      name: 'q',
      value: this.query,
      placeholder: 'Name, address or phone',
      autocomplete: 'off',
      oninput: () => {
        this.query = search.value;
        this.fill();
        history.replaceState(null, '', this.query ? `#/stores?q=${encodeURIComponent(this.query)}` : '#/stores');
      },
    });
    this.fill();
    return h(
      'section',
      { class: 'screen' },
      heading('Stores', h('a', { class: 'button small', href: '#/stores/new' }, 'New prospect')),
      field('Search stores', search),
      this.count,
      this.list,
    );
  }

  fill() {
    const words = this.query.toLowerCase().split(/\s+/).filter(Boolean);
    const matches = this.stores.filter((store) => {
      const text = `${store.name} ${store.address || ''} ${store.phone || ''} ${store.chain_name || ''}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
    const shown = matches.slice(0, 200);
    this.count.textContent = `${matches.length} of ${this.stores.length} stores${matches.length > shown.length ? ' (first 200 shown)' : ''}`;
    replaceChildren(
      this.list,
      shown.map((store) =>
        h(
          'li',
          { class: 'card store-row' },
          storeLink(store),
          h(
            'p',
            { class: 'meta' },
            [store.address, store.grade ? `Grade ${store.grade}` : null, store._pending ? 'not sent yet' : null, this.position ? formatDistance(distanceM(this.position.lat, this.position.lon, store.lat, store.lon)) : null]
              .filter(Boolean)
              .join(' · '),
          ),
        ),
      ),
    );
  }

  refreshAfterSync() {
    return !document.activeElement || document.activeElement.name !== 'q';
  }
}

// --- one store --------------------------------------------------------------------------

class StorePage {
  constructor(app, params) {
    this.app = app;
    this.storeId = params[0];
  }

  async render() {
    const app = this.app;
    const client = app.client;
    const started = performance.now();
    const [store, surveys, visits, followups, tasks] = await Promise.all([
      client.record('store', this.storeId),
      client.records('survey', { store: this.storeId }),
      client.records('visit', { store: this.storeId }),
      client.records('followup', { store: this.storeId }),
      client.records('task', { store: this.storeId }),
    ]);
    if (!store) {
      return h('section', { class: 'screen' }, heading('Store not found'), h('p', {}, 'This store is not (or no longer) among your stores.'), h('a', { href: '#/stores', class: 'button' }, 'All stores'));
    }
    this.title = store.name;
    this.store = store;
    surveys.sort((a, b) => (b.captured_at || '').localeCompare(a.captured_at || ''));
    visits.sort((a, b) => (b.check_in_at || '').localeCompare(a.check_in_at || ''));
    followups.sort((a, b) => (a.done - b.done) || (a.due_date || '').localeCompare(b.due_date || ''));
    const openVisits = await client.openVisits();
    const content = h(
      'section',
      { class: 'screen store-page' },
      heading(store.name),
      h(
        'p',
        { class: 'meta' },
        [store.address, store.phone, store.grade ? `Grade ${store.grade}` : null, label(TRADE_AREA_TYPES, store.trade_area_type), store.status].filter(Boolean).join(' · '),
      ),
      store._rejected ? h('p', { class: 'notice error' }, `The server refused this store: ${errorsText(store._rejected)} Fix it under Changes.`) : null,
      await this.visitCard(store, visits, openVisits),
      this.surveyCard(store, surveys),
      this.tasksCard(tasks),
      this.followupsCard(store, followups),
      this.visitsCard(visits),
    );
    this.openedInMs = performance.now() - started;
    content.dataset.openedInMs = this.openedInMs.toFixed(1);
    return content;
  }

  async visitCard(store, visits, openVisits) {
    const app = this.app;
    const here = openVisits.find((visit) => visit.store === store.id);
    const elsewhere = openVisits.find((visit) => visit.store !== store.id);
    const result = h('p', { class: 'verdict', 'aria-live': 'polite' });
    const card = h('div', { class: 'card' }, h('h2', {}, 'Visit'));
    if (here) {
      add(card, 
        h('p', {}, `Checked in ${formatDateTime(here.check_in_at)}`, here.check_in_accuracy_m != null ? ` (±${Math.round(here.check_in_accuracy_m)} m)` : ''),
        visitVerdict(here, store, app.config.geofence),
        h(
          'button',
          {
            type: 'button',
            class: 'button primary wide',
            onclick: async (event) => {
              event.currentTarget.disabled = true;
              await app.client.change({ entity: 'visit', op: 'update', id: here.id, fields: { check_out_at: new Date().toISOString() } });
              app.changed();
              app.route();
            },
          },
          'Check out',
        ),
      );
      return card;
    }
    if (elsewhere) {
      const other = await app.client.record('store', elsewhere.store);
      add(card, 
        h('p', { class: 'notice' }, 'You are checked in at ', other ? storeLink(other) : 'another store', '. Check out there first.'),
      );
      return card;
    }
    const purpose = h('select', { name: 'purpose' }, VISIT_PURPOSES.map(([value, text]) => h('option', { value }, text)));
    const button = h(
      'button',
      {
        type: 'button',
        class: 'button primary wide',
        onclick: async () => {
          button.disabled = true;
          button.textContent = 'Getting your position…';
          const fix = await app.locate({ maximumAge: 10_000 });
          if (fix.error) {
            result.textContent = fix.error;
            button.disabled = false;
            button.textContent = 'Check in';
            return;
          }
          await app.client.change({
            entity: 'visit',
            op: 'create',
            fields: {
              store: store.id,
              purpose: purpose.value,
              check_in_at: new Date().toISOString(),
              check_in_lat: fix.lat,
              check_in_lon: fix.lon,
              check_in_accuracy_m: Math.round(fix.accuracy * 10) / 10,
            },
          });
          app.changed();
          app.route();
        },
      },
      'Check in',
    );
    add(card, field('Purpose', purpose), button, result);
    return card;
  }

  surveyCard(store, surveys) {
    const latest = surveys[0];
    const app = this.app;
    const card = h('div', { class: 'card' }, h('h2', {}, 'Site survey'));
    if (latest) {
      add(card, 
        h('p', {}, `Latest: ${formatDateTime(latest.captured_at) || 'no date'} · ${REVIEW_STATUS[latest.review_status] || 'Not sent yet'}`),
        latest._rejected ? h('p', { class: 'notice error' }, `Refused: ${errorsText(latest._rejected)}`) : null,
        h(
          'dl',
          { class: 'facts' },
          ['footfall_weekday', 'footfall_weekend', 'area_m2', 'equipment'].flatMap((name) => [
            h('dt', {}, FIELD_BY_NAME[name].label),
            h('dd', {}, valueText(name, latest[name])),
          ]),
        ),
        h('div', { class: 'actions' }, h('a', { class: 'button', href: `#/survey/${latest.id}` }, 'Edit survey'), h('a', { class: 'button', href: `#/store/${store.id}/survey` }, 'New survey')),
      );
    } else {
      add(card, h('p', {}, 'No survey yet.'), h('a', { class: 'button primary wide', href: `#/store/${store.id}/survey` }, 'Start the survey'));
    }
    void app;
    return card;
  }

  tasksCard(tasks) {
    const app = this.app;
    const open = tasks.filter((task) => task.status !== 'cancelled').sort((a, b) => (a.status === 'done') - (b.status === 'done'));
    const card = h('div', { class: 'card' }, h('h2', {}, 'Tasks'));
    if (!open.length) add(card, h('p', { class: 'muted' }, 'No tasks at this store.'));
    for (const task of open) {
      const select = h(
        'select',
        {
          name: 'status',
          onchange: async () => {
            await app.client.change({ entity: 'task', op: 'update', id: task.id, fields: { status: select.value } });
            app.changed();
          },
        },
        // A rep moves a task forward only (the server refuses the rest): offer the current step and later ones.
        TASK_STATUSES.slice(Math.max(0, TASK_STATUSES.findIndex(([value]) => value === task.status))).map(([value, text]) => h('option', { value, selected: value === task.status }, text)),
      );
      add(card, 
        h(
          'div',
          { class: 'task-row' },
          h('p', { class: 'task-title' }, task.title || TASK_TYPES[task.type]),
          h('p', { class: 'meta' }, [TASK_TYPES[task.type], task.due_date ? `due ${formatDate(task.due_date)}` : null, task.notes].filter(Boolean).join(' · ')),
          field(`Status of ${task.title || TASK_TYPES[task.type]}`, select),
        ),
      );
    }
    return card;
  }

  followupsCard(store, followups) {
    const app = this.app;
    const card = h('div', { class: 'card' }, h('h2', {}, 'Follow-ups'));
    const list = h('ul', { class: 'followups' });
    for (const followup of followups) {
      const box = h('input', {
        type: 'checkbox',
        checked: followup.done,
        onchange: async () => {
          await app.client.change({ entity: 'followup', op: 'update', id: followup.id, fields: { done: box.checked } });
          app.changed();
        },
      });
      const id = uid('fu');
      box.id = id;
      add(list, 
        h('li', { class: followup.done ? 'done' : '' }, box, h('label', { for: id }, `${formatDate(followup.due_date)}: ${followup.note || 'Follow-up'}`)),
      );
    }
    if (!followups.length) add(list, h('li', { class: 'muted' }, 'None yet.'));
    const due = h('input', { type: 'date', name: 'due_date', required: true, min: today() });
    const note = h('textarea', { name: 'note', rows: '2', maxlength: '2000' });
    const dueField = field('Follow-up date', due, { required: true });
    const noteField = field('Note', note);
    this.followupForm = h(
      'form',
      {
        class: 'form',
        novalidate: true,
        onsubmit: async (event) => {
          event.preventDefault();
          showFieldError(dueField, due.value ? [] : ['Choose the date of the next contact.']);
          showFieldError(noteField, note.value.length > 2000 ? ['At most 2000 characters.'] : []);
          if (!due.value || note.value.length > 2000) return;
          const visit = (await app.client.records('visit', { store: store.id })).find((v) => !v.check_out_at);
          await app.client.change({
            entity: 'followup',
            op: 'create',
            fields: { store: store.id, visit: visit ? visit.id : null, due_date: due.value, note: note.value.trim(), done: false },
          });
          app.changed();
          app.route();
        },
      },
      dueField,
      noteField,
      h('button', { type: 'submit', class: 'button wide' }, 'Add follow-up'),
    );
    add(card, list, this.followupForm);
    return card;
  }

  visitsCard(visits) {
    const card = h('div', { class: 'card' }, h('h2', {}, 'Visits'));
    if (!visits.length) add(card, h('p', { class: 'muted' }, 'No visits yet.'));
    const list = h('ul', { class: 'visits' });
    for (const visit of visits.slice(0, 10)) {
      add(list, 
        h(
          'li',
          {},
          h('p', {}, `${formatDateTime(visit.check_in_at)} – ${visit.check_out_at ? formatDateTime(visit.check_out_at) : 'open'} · ${label(VISIT_PURPOSES, visit.purpose)}`),
          visitVerdict(visit, this.store, this.app.config.geofence),
        ),
      );
    }
    add(card, list);
    return card;
  }

  refreshAfterSync() {
    const form = this.followupForm;
    return !form || ![...form.elements].some((element) => element.value && element.name);
  }
}

/** The server's verdict on a visit in words, or the phone's own estimate until it comes. */
function visitVerdict(visit, store, geofence) {
  const box = h('p', { class: 'verdict' });
  if (visit._rejected) {
    box.classList.add('bad');
    box.textContent = `Refused by the server: ${errorsText(visit._rejected)}`;
    return box;
  }
  const flags = (visit.flags || []).map((flag) => flag.replaceAll('_', ' '));
  if (visit.version > 0 && visit.geofence && visit.geofence !== 'unknown') {
    const inside = visit.geofence === 'pass';
    box.classList.add(inside ? 'good' : 'bad');
    box.textContent =
      `${inside ? 'Verified' : 'Not verified'}: ${formatDistance(visit.distance_m)} from the store, ` +
      `${inside ? 'inside' : 'outside'} the geofence${flags.length ? ` · flags: ${flags.join(', ')}` : ''}.`;
    return box;
  }
  if (visit.check_in_lat != null && store) {
    const distance = distanceM(visit.check_in_lat, visit.check_in_lon, store.lat, store.lon);
    const fence = visitFence({ store, accuracy: visit.check_in_accuracy_m, geofence });
    box.textContent = `About ${formatDistance(distance)} from the store (${distance <= fence.allowed ? 'inside' : 'outside'} the ${Math.round(fence.allowed)} m geofence); the server confirms after the next sync.`;
  } else {
    box.textContent = 'No position recorded.';
  }
  return box;
}

// --- survey form --------------------------------------------------------------------------

class NewStore {
  title = 'New prospect store';

  constructor(app, params, query) {
    this.app = app;
    this.fixSeq = query.get('fix') ? Number(query.get('fix')) : null;
    this.fix = null;
  }

  async render() {
    const app = this.app;
    let previous = {};
    if (this.fixSeq) {
      const entry = (await app.client.outbox()).find((candidate) => candidate.seq === this.fixSeq);
      if (entry) {
        previous = entry.fields;
        this.entry = entry;
      }
    }
    const controls = {
      name: h('input', { name: 'name', maxlength: '200', required: true, value: previous.name ?? '' }),
      phone: h('input', { name: 'phone', type: 'tel', inputmode: 'tel', maxlength: '50', value: previous.phone ?? '' }),
      address: h('input', { name: 'address', maxlength: '300', value: previous.address ?? '' }),
      trade_area_type: h('select', { name: 'trade_area_type' }, h('option', { value: '' }, '—'), TRADE_AREA_TYPES.map(([v, t]) => h('option', { value: v, selected: v === previous.trade_area_type }, t))),
    };
    const boxes = {
      name: field('Name', controls.name, { required: true }),
      phone: field('Phone', controls.phone, { hint: 'The shop’s number: it identifies the store.' }),
      address: field('Address', controls.address),
      trade_area_type: field('Trade area', controls.trade_area_type),
    };
    if (previous.lat != null) this.fix = { lat: previous.lat, lon: previous.lon, accuracy: 0 };
    const positionLine = h('p', { class: 'meta', 'aria-live': 'polite' }, this.fix ? 'Position kept from before.' : 'Getting your position…');
    if (!this.fix) {
      app.locate({ maximumAge: 60_000 }).then((fix) => {
        if (fix.error) positionLine.textContent = fix.error;
        else {
          this.fix = fix;
          positionLine.textContent = `Your position (±${Math.round(fix.accuracy)} m) becomes the store’s.`;
        }
      });
    }
    const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    if (this.entry?.errors) {
      formError.textContent = `The server refused it: ${errorsText(this.entry.errors)}`;
      formError.hidden = false;
      for (const [name, messages] of Object.entries(this.entry.errors)) if (boxes[name]) showFieldError(boxes[name], messages);
    }
    return h(
      'section',
      { class: 'screen' },
      heading(this.entry ? 'Fix the new store' : 'New prospect store'),
      h(
        'form',
        {
          class: 'card form',
          novalidate: true,
          onsubmit: async (event) => {
            event.preventDefault();
            const values = {
              name: controls.name.value.trim(),
              phone: controls.phone.value.trim(),
              address: controls.address.value.trim(),
              trade_area_type: controls.trade_area_type.value,
              lat: this.fix?.lat ?? null,
              lon: this.fix?.lon ?? null,
            };
            const errors = validateNewStore(values);
            for (const [name, box] of Object.entries(boxes)) showFieldError(box, errors[name]);
            if (errors.lat) {
              formError.textContent = errors.lat.join(' ');
              formError.hidden = false;
            }
            if (Object.keys(errors).length) return;
            const fields = { ...values, region: app.user.region, owner: app.user.id };
            let id;
            if (this.entry) {
              await app.client.resend(this.entry.seq, fields);
              id = this.entry.record_id;
            } else {
              id = await app.client.change({ entity: 'store', op: 'create', fields });
            }
            app.changed();
            app.go(`#/store/${id}`);
          },
        },
        boxes.name,
        boxes.phone,
        boxes.address,
        boxes.trade_area_type,
        positionLine,
        formError,
        h('button', { type: 'submit', class: 'button primary wide' }, this.entry ? 'Send again' : 'Save store'),
      ),
    );
  }

  refreshAfterSync() {
    return false;
  }
}

// --- changes: waiting, refused, conflicts; account --------------------------------------

class Changes {
  title = 'Changes';

  constructor(app) {
    this.app = app;
  }

  async describe(entry, stores) {
    const fields = entry.fields || {};
    const base = await this.app.client.storage.record(entry.entity, entry.record_id);
    const storeId = entry.entity === 'store' ? entry.record_id : fields.store ?? base?.store;
    const store = stores.get(storeId);
    const where =
      entry.entity === 'store'
        ? ` “${fields.name ?? store?.name ?? ''}”`
        : store
          ? ` at ${store.name}`
          : '';
    if (entry.entity === 'visit' && entry.op === 'create') return `Check-in${where}`;
    if (entry.entity === 'visit' && fields.check_out_at) return `Check-out${where}`;
    const verb = { create: 'New', update: 'Changed', delete: 'Deleted' }[entry.op];
    return `${verb} ${ENTITY_NAMES[entry.entity] || entry.entity}${where}`;
  }

  async render() {
    const app = this.app;
    const client = app.client;
    const stores = await storesById(app);
    const entries = await client.outbox();
    const waiting = entries.filter((entry) => entry.state !== 'rejected');
    const refused = entries.filter((entry) => entry.state === 'rejected');
    const conflicts = await client.conflicts();
    const photos = await client.pendingPhotos();
    const user = app.user;

    const refusedCard = h('div', { class: 'card', id: 'refused' }, h('h2', {}, `Refused by the server (${refused.length})`));
    if (!refused.length) add(refusedCard, h('p', { class: 'muted' }, 'Nothing refused.'));
    for (const entry of refused) {
      const fixHref =
        entry.entity === 'store' && entry.op === 'create'
          ? `#/stores/new?fix=${entry.seq}`
          : entry.entity === 'survey' && entry.op === 'update'
            ? `#/survey/${entry.record_id}?fix=${entry.seq}`
            : null;
      add(refusedCard, 
        h(
          'div',
          { class: 'refused', dataset: { seq: String(entry.seq) } },
          h('p', { class: 'refused-what' }, await this.describe(entry, stores)),
          h('p', { class: 'refused-errors' }, errorsText(entry.errors)),
          h(
            'div',
            { class: 'actions' },
            fixHref ? h('a', { class: 'button primary', href: fixHref }, 'Fix') : h('button', { type: 'button', class: 'button', onclick: async () => { await client.resend(entry.seq); app.changed(); app.route(); } }, 'Send again'),
            h('button', { type: 'button', class: 'button danger', onclick: async () => { await client.discard(entry.seq); app.changed(); app.route(); } }, 'Discard'),
          ),
        ),
      );
    }

    const conflictCard = h('div', { class: 'card', id: 'conflicts' }, h('h2', {}, `Edited elsewhere too (${conflicts.length})`));
    if (!conflicts.length) add(conflictCard, h('p', { class: 'muted' }, 'No conflicts.'));
    const conflictList = h('ul', { class: 'conflicts' });
    for (const conflict of conflicts.sort((a, b) => b.at.localeCompare(a.at))) {
      add(conflictList, h('li', {}, await this.conflictWords(conflict, stores)));
    }
    if (conflicts.length) {
      add(conflictCard, conflictList, h('button', { type: 'button', class: 'button small', onclick: async () => { await client.dismissConflicts(); app.route(); } }, 'Dismiss'));
    }

    const waitingCard = h('div', { class: 'card', id: 'waiting' }, h('h2', {}, `Waiting to be sent (${waiting.length})`));
    const waitingList = h('ul', { class: 'waiting' });
    for (const entry of waiting.slice(0, 100)) {
      add(waitingList, h('li', {}, await this.describe(entry, stores), ' · ', formatDateTime(entry.client_ts)));
    }
    if (!waiting.length) add(waitingCard, h('p', { class: 'muted' }, 'Nothing waiting.'));
    else add(waitingCard, waitingList);
    if (photos.length) add(waitingCard, h('p', {}, `${photos.length} photo${photos.length === 1 ? '' : 's'} to upload.`));

    const lastSync = await client.storage.getMeta('last_sync_at');
    const warning = h('div', { class: 'notice warn', hidden: true });
    const signOut = h(
      'button',
      {
        type: 'button',
        class: 'button danger wide',
        onclick: async () => {
          const count = (await client.outbox()).length;
          const offline = !navigator.onLine;
          if ((count > 0 || offline) && warning.hidden) {
            replaceChildren(
              warning,
              h('p', {}, count > 0 ? `${count} changes are still waiting and would be lost.` : '', offline ? ' You are offline: your sign-in cannot be revoked on the server now.' : ''),
              h('button', { type: 'button', class: 'button danger', onclick: () => this.signOut(true) }, 'Sign out anyway'),
            );
            warning.hidden = false;
            return;
          }
          await this.signOut(count > 0);
        },
      },
      'Sign out',
    );
    return h(
      'section',
      { class: 'screen' },
      heading('Changes'),
      refusedCard,
      conflictCard,
      waitingCard,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'This phone'),
        h('p', {}, `Signed in as ${user.username}${user.region ? ` (${user.region})` : ''}.`),
        h('p', { class: 'meta' }, `Last sync: ${lastSync ? formatDateTime(lastSync) : 'never'} · app ${app.config.app_version}`),
        h('p', { class: 'meta' }, `Device ${await client.deviceId()}`),
        signOut,
        warning,
      ),
    );
  }

  async signOut(force) {
    try {
      await this.app.client.signOut({ force });
    } catch (error) {
      this.app.toast(error.message);
      return;
    }
    this.app.lastError = null;
    this.app.firstSyncDone = false;
    this.app.go('#/day');
  }

  /** "Your footfall on a weekday 420 was replaced by 515 from another phone or the office." */
  async conflictWords(conflict, stores) {
    const record = await this.app.client.record(conflict.entity, conflict.record_id);
    const store = conflict.entity === 'store' ? stores.get(conflict.record_id) : stores.get(record?.store);
    const where = `${ENTITY_NAMES[conflict.entity] || conflict.entity}${store ? ` at ${store.name}` : ''}`;
    const name = fieldLabel(conflict.field).toLowerCase();
    const mine = valueText(conflict.field, conflict.client_value);
    const theirs = valueText(conflict.field, conflict.server_value);
    let outcome;
    if (conflict.kept === 'client') outcome = `was kept (the other value was ${theirs})`;
    else if (conflict.kept === 'server') outcome = `was replaced by ${theirs} from another phone or the office`;
    else outcome = `was combined with ${theirs}: now ${valueText(conflict.field, record?.[conflict.field])}`;
    return `${where[0].toUpperCase()}${where.slice(1)}: your ${name} ${mine} ${outcome}.`;
  }

  refreshAfterSync() {
    return true;
  }
}

export const SCREENS = {
  signin: SignIn,
  firstSync: FirstSync,
  day: Day,
  stores: Stores,
  newStore: NewStore,
  store: StorePage,
  surveyForm: SurveyForm,
  changes: Changes,
};
