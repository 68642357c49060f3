// The rep's app: boots the sync client on IndexedDB, keeps the status line true, syncs on
// start, on reconnect, every few minutes and on "Sync now", and routes between screens.

import { SyncClient, SyncError } from '../sync/client.js';
import { IndexedDBStorage } from '../sync/idb-storage.js';
import { h, replaceChildren } from './dom.js';
import { SCREENS } from './screens.js';

const DEFAULT_CONFIG = {
  app_version: '1.0.0',
  sync_every_s: 180,
  geofence: { radius_m: 150, radius_by_trade_area: {}, accuracy_factor: 1, max_slack_m: 100 },
  photo_max_bytes: 10 * 1024 * 1024,
};

async function loadConfig() {
  try {
    const answer = await fetch('/app/config.json');
    if (answer.ok) return { ...DEFAULT_CONFIG, ...(await answer.json()) };
  } catch {
    // Offline and not cached yet: the defaults are the server's defaults.
  }
  return DEFAULT_CONFIG;
}

class App {
  constructor(config) {
    this.config = config;
    this.online = navigator.onLine;
    this.lastError = null;
    this.position = null;
    this.screen = null;
    this.client = new SyncClient({
      storage: new IndexedDBStorage('fieldline'),
      appVersion: config.app_version,
      lock: navigator.locks ? (name, run) => navigator.locks.request(name, run) : undefined,
      onState: (state) => this.onSyncState(state),
    });
    this.statusLine = document.getElementById('sync-status');
    this.errorLine = document.getElementById('sync-error');
    this.progress = document.getElementById('sync-progress');
    this.syncButton = document.getElementById('sync-now');
    this.tabs = document.getElementById('tabs');
    this.main = document.getElementById('screen');
    this.changeTimer = null;
  }

  async start() {
    this.syncButton.addEventListener('click', () => this.syncNow());
    window.addEventListener('online', () => {
      this.online = true;
      this.updateStatus();
      this.syncNow();
    });
    window.addEventListener('offline', () => {
      this.online = false;
      this.updateStatus();
    });
    window.addEventListener('hashchange', () => this.route());
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') this.syncNow();
    });
    setInterval(() => this.syncNow(), Math.max(30, this.config.sync_every_s) * 1000);
    if ('serviceWorker' in navigator) {
      const updating = Boolean(navigator.serviceWorker.controller);
      navigator.serviceWorker.addEventListener('controllerchange', () => {
        // A new version was installed while this page ran the old one.
        if (updating) this.toast('A new version of the app is ready: it starts the next time you open the app.');
      });
      navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => {});
    }
    this.user = (await this.client.token()) ? await this.client.user() : null;
    await this.updateStatus();
    await this.route();
    if (this.user) this.syncNow();
  }

  // --- sync ------------------------------------------------------------------------------

  /** Sync if there is a network and a token; otherwise only say why not. */
  async syncNow() {
    if (!(await this.client.token())) return;
    this.user = await this.client.user();
    this.online = navigator.onLine;
    if (!this.online) {
      await this.updateStatus();
      return;
    }
    const firstSync = !(await this.client.storage.getMeta('cursor'));
    try {
      await this.client.sync();
      this.lastError = null;
      await this.refreshTemplates();
      await this.client.storage.commit({ meta: { first_sync_done: true } });
    } catch (error) {
      this.lastError = error;
      // No answer at all: offline as far as the rep is concerned, whatever the phone thinks
      // (a captive portal, a dead access point); the next sync tries again.
      if (error instanceof SyncError && error.kind === 'offline') this.online = false;
      if (error instanceof SyncError && error.kind === 'auth') {
        if (!(await this.client.token())) this.lastError = null; // signed out meanwhile
        // The data and the outbox stay: signing in again sends them.
        else await this.client.storage.commit({ meta: { token: null } });
        await this.updateStatus();
        await this.route();
        return;
      }
    }
    await this.updateStatus();
    if (firstSync || this.screen?.refreshAfterSync?.()) await this.route();
  }

  async refreshTemplates() {
    const answer = await this.client.request('GET', '/api/survey-templates/current');
    if (answer.ok) await this.client.storage.commit({ meta: { templates: await answer.json() } });
  }

  /** After a local edit: show it, and send it soon when online. */
  changed() {
    this.updateStatus();
    clearTimeout(this.changeTimer);
    this.changeTimer = setTimeout(() => this.syncNow(), 1500);
  }

  onSyncState(state) {
    const progress = state.progress;
    if (state.phase === 'pulling' && progress) {
      this.progress.hidden = false;
      if (progress.total) {
        this.progress.max = progress.total;
        this.progress.value = Math.min(progress.received, progress.total);
      } else {
        this.progress.removeAttribute('value');
      }
      this.progress.setAttribute('aria-label', `Received ${progress.received} records`);
      this.screen?.onProgress?.(progress);
      // Protocol 1.1 sends the open tasks, their stores and templates first (tier 0): the
      // rep can start the day while the rest of the scope arrives.
      if (!this.firstSyncDone && (progress.tier > 0 || (progress.tier === 0 && progress.tierComplete))) {
        this.firstSyncDone = true;
        this.client.storage.commit({ meta: { first_sync_done: true } }).then(() => this.route());
      }
    } else if (state.phase === 'idle') {
      this.progress.hidden = true;
    }
    this.updateStatus(state);
  }

  /** The status line: Offline / Synced / N changes waiting, always in words. */
  async updateStatus(state = this.client.state) {
    const entries = await this.client.outbox();
    // A photo's bytes count as a change of their own once its record has gone.
    const inOutbox = new Set(entries.map((entry) => entry.record_id));
    const bytesWaiting = (await this.client.pendingPhotos()).filter((blob) => !inOutbox.has(blob.id));
    const waiting = entries.length + bytesWaiting.length;
    const refused = entries.filter((entry) => entry.state === 'rejected').length;
    const parts = [];
    const signedIn = Boolean(this.user);
    const neverSynced = signedIn && !(await this.client.storage.getMeta('last_sync_at'));
    const syncing = this.online && state.phase && state.phase !== 'idle';
    if (!this.online) parts.push('Offline');
    else if (syncing) parts.push('Syncing…');
    if (!signedIn) parts.push('Not signed in');
    else if (waiting > 0) parts.push(`${waiting} changes waiting`);
    else if (syncing) parts.push('nothing waiting');
    else if (neverSynced) parts.push(this.online ? 'Not synced yet' : 'not synced yet');
    else if (this.online && !this.lastError) parts.push('Synced');
    else if (this.online) parts.push('Sync failed, nothing waiting');
    else parts.push('nothing waiting');
    if (refused > 0) parts.push(`${refused} refused, needs fixing`);
    const text = parts.join(' · ');
    if (this.statusLine.textContent !== text) this.statusLine.textContent = text;
    this.statusLine.dataset.state = !this.online ? 'offline' : waiting || neverSynced || this.lastError ? 'waiting' : 'synced';
    const error = this.lastError;
    const message = error && !(error instanceof SyncError && error.kind === 'offline') ? error.message : '';
    this.errorLine.textContent = message;
    this.errorLine.hidden = !message;
    this.syncButton.hidden = !this.user;
    this.syncButton.disabled = !this.online;
  }

  // --- navigation ------------------------------------------------------------------------

  go(hash) {
    if (location.hash === hash) this.route();
    else location.hash = hash;
  }

  /** Draw the screen the address names; a new address starts at the top, with the focus
   * on its heading (a redraw after a sync keeps the place). */
  async route() {
    const started = performance.now();
    const moved = this.shownHash !== location.hash;
    this.shownHash = location.hash;
    const [token, storedUser] = await Promise.all([this.client.token(), this.client.user()]);
    const user = token ? storedUser : null;
    this.user = user;
    if (!user) this.firstSyncDone = false;
    const hash = location.hash.replace(/^#/, '') || '/day';
    let name;
    let params = [];
    if (!user) name = 'signin';
    else if (!(this.firstSyncDone ||= Boolean(await this.client.storage.getMeta('first_sync_done')))) {
      name = 'firstSync';
    }
    else {
      const parts = hash.split('?')[0].split('/').filter(Boolean);
      params = parts.slice(1).map(decodeURIComponent);
      name = {
        day: 'day',
        stores: parts[1] === 'new' ? 'newStore' : 'stores',
        store: parts[2] === 'survey' ? 'surveyForm' : 'store',
        survey: 'surveyForm',
        changes: 'changes',
      }[parts[0]] || 'day';
      if (name === 'newStore') params = [];
    }
    const query = new URLSearchParams(hash.split('?')[1] || '');
    this.tabs.hidden = !user;
    for (const tab of this.tabs.querySelectorAll('a')) {
      const current = tab.dataset.tab === (name === 'store' || name === 'newStore' || name === 'surveyForm' ? 'stores' : name);
      if (current) tab.setAttribute('aria-current', 'page');
      else tab.removeAttribute('aria-current');
    }
    const screen = new SCREENS[name](this, params, query);
    this.screen = screen;
    const content = await screen.render();
    if (this.screen !== screen) return; // another route started meanwhile
    replaceChildren(this.main, content);
    // How long the screen took from the address to the page: a figure support can read.
    this.main.dataset.renderedInMs = (performance.now() - started).toFixed(1);
    document.title = screen.title ? `${screen.title} · Fieldline` : 'Fieldline';
    if (moved) {
      window.scrollTo(0, 0);
      if (name !== 'signin') this.main.querySelector('h1')?.focus({ preventScroll: true });
    }
    screen.mounted?.();
    await this.updateStatus();
  }

  /** The phone's position, or an error in words; remembered for the day's route offline. */
  locate({ maximumAge = 30_000, timeout = 20_000 } = {}) {
    return new Promise((resolve) => {
      if (!navigator.geolocation) {
        resolve({ error: 'This phone cannot tell its position.' });
        return;
      }
      navigator.geolocation.getCurrentPosition(
        (position) => {
          const fix = {
            lat: position.coords.latitude,
            lon: position.coords.longitude,
            accuracy: position.coords.accuracy,
            at: new Date(position.timestamp || Date.now()).toISOString(),
          };
          this.position = fix;
          this.client.storage.commit({ meta: { last_position: fix } });
          resolve(fix);
        },
        (error) =>
          resolve({
            error:
              error.code === 1
                ? 'Location is blocked for this app: allow it in the browser settings.'
                : 'No position yet: step outside or wait a moment, then try again.',
          }),
        { enableHighAccuracy: true, maximumAge, timeout },
      );
    });
  }

  /** A short message at the bottom of the screen, read out by screen readers. */
  toast(message) {
    let box = document.getElementById('toast');
    if (!box) {
      box = h('p', { id: 'toast', class: 'toast', role: 'alert' });
      document.body.append(box);
    }
    box.textContent = message;
    box.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => {
      box.hidden = true;
    }, 6000);
  }

  async lastPosition() {
    return this.position || (await this.client.storage.getMeta('last_position')) || null;
  }
}

const config = await loadConfig();
const app = new App(config);
window.fieldline = app; // for the browser tests and for support
app.start().catch((error) => {
  replaceChildren(
    document.getElementById('screen'),
    h('p', { class: 'notice error' }, `The app could not start: ${error.message}`),
  );
});
