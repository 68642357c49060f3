// The survey form: rendered from the survey template in force for the store's trade-area
// type, validated as the server does, with the completeness score as the rep fills it and
// photos from the camera.

import {
  field,
  formatDateTime,
  formatDistance,
  add,
  h,
  replaceChildren,
  uid,
} from './dom.js';
import { distanceM } from './geo.js';
import {
  COMPETITOR_KINDS,
  FIELD_BY_NAME,
  FOOTFALL_SLOTS,
  PHOTO_CONTENT_TYPES,
  PHOTO_SECTIONS,
  SURVEY_FIELDS,
  TRADE_AREA_TYPES,
  completeness,
  itemLabel,
  requiredItems,
  templateFor,
  validateSurvey,
} from './survey-rules.js';
import { errorsText, heading, label } from './screen-parts.js';

export class SurveyForm {
  constructor(app, params, query) {
    this.app = app;
    // #/store/<store>/survey (new) or #/survey/<id> (edit)
    this.isNew = location.hash.startsWith('#/store/');
    this.storeId = this.isNew ? params[0] : null;
    this.surveyId = this.isNew ? null : params[0];
    this.fixSeq = query.get('fix') ? Number(query.get('fix')) : null;
    this.staged = [];
    this.dirty = false;
  }

  async render() {
    const client = this.app.client;
    let survey = null;
    if (!this.isNew) {
      survey = await client.record('survey', this.surveyId);
      if (!survey) return h('section', { class: 'screen' }, heading('Survey not found'), h('a', { href: '#/stores', class: 'button' }, 'All stores'));
      this.storeId = survey.store;
    }
    this.survey = survey;
    this.store = await client.record('store', this.storeId);
    if (!this.store) return h('section', { class: 'screen' }, heading('Store not found'));
    this.title = `Survey · ${this.store.name}`;
    this.templates = (await client.storage.getMeta('templates')) || [];
    this.photos = survey ? (await client.records('photo')).filter((photo) => photo.survey === survey.id) : [];
    this.values = survey ? pickSurveyValues(survey) : { trade_area_type: this.store.trade_area_type || '' };
    this.surveyIdForPhotos = survey ? survey.id : client.newId();
    if (!survey) this.captureFix({ initial: true });

    this.meter = h('meter', { min: '0', max: '1', low: '0.5', high: '0.99', optimum: '1', value: '0', id: 'completeness-meter' });
    this.scoreLine = h('p', { class: 'score', id: 'completeness', 'aria-live': 'polite' });
    this.missingLine = h('p', { class: 'meta' });
    this.positionLine = h('p', { class: 'meta', 'aria-live': 'polite' });
    this.photoList = h('ul', { class: 'photos' });
    this.formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const refused = this.fixSeq ? (await client.rejected()).find((entry) => entry.seq === this.fixSeq) : null;
    if (refused) {
      this.formError.textContent = `The server refused this change: ${errorsText(refused.errors)} Correct it and save again.`;
      this.formError.hidden = false;
    }
    this.controls = {};
    this.fieldBoxes = {};
    const groups = new Map();
    for (const spec of SURVEY_FIELDS) {
      if (!groups.has(spec.group)) groups.set(spec.group, h('fieldset', { class: 'card' }, h('legend', {}, spec.group)));
      const box = this.renderField(spec);
      this.fieldBoxes[spec.name] = box;
      add(groups.get(spec.group), box);
    }
    const photoInput = h('input', {
      type: 'file',
      accept: 'image/*',
      capture: 'environment',
      class: 'visually-hidden',
      tabindex: '-1',
      'aria-hidden': 'true',
      onchange: () => this.addPhotos(photoInput),
    });
    this.photoSection = h('select', { name: 'photo_section' }, PHOTO_SECTIONS.map(([value, text]) => h('option', { value }, text)));
    const photoError = h('p', { class: 'field-error', role: 'alert', hidden: true });
    this.photoError = photoError;
    const photosCard = h(
      'fieldset',
      { class: 'card' },
      h('legend', {}, 'Photos'),
      this.photoList,
      field('Photo of', this.photoSection),
      photoInput,
      h('button', { type: 'button', class: 'button wide', onclick: () => photoInput.click() }, 'Add photo'),
      photoError,
    );
    const positionCard = h(
      'fieldset',
      { class: 'card' },
      h('legend', {}, 'Where and when'),
      this.positionLine,
      h('button', { type: 'button', class: 'button small', onclick: () => this.captureFix({}) }, 'Update position'),
    );
    const form = h(
      'form',
      {
        class: 'form survey-form',
        novalidate: true,
        oninput: () => this.update(),
        onchange: () => this.update(),
        onsubmit: (event) => {
          event.preventDefault();
          this.save();
        },
      },
      h('div', { class: 'card sticky-score' }, this.scoreLine, this.meter, this.missingLine),
      [...groups.values()],
      photosCard,
      positionCard,
      this.formError,
      h('button', { type: 'submit', class: 'button primary wide' }, 'Save survey'),
    );
    this.renderPhotos();
    this.update({ initial: true });
    return h('section', { class: 'screen' }, heading(this.isNew ? 'New survey' : 'Edit survey', h('a', { href: `#/store/${this.store.id}`, class: 'button small' }, 'Back')), h('p', { class: 'meta' }, this.store.name), form);
  }

  renderField(spec) {
    const value = this.values[spec.name];
    let control;
    if (spec.kind === 'choice') {
      control = h('select', { name: spec.name }, h('option', { value: '' }, '—'), spec.choices.map(([v, t]) => h('option', { value: v, selected: v === value }, t)));
    } else if (spec.kind === 'int' || spec.kind === 'number') {
      control = h('input', { name: spec.name, type: 'number', inputmode: spec.kind === 'int' ? 'numeric' : 'decimal', min: String(spec.min), max: String(spec.max), step: spec.kind === 'int' ? '1' : 'any', value: value ?? '' });
    } else if (spec.kind === 'text') {
      control = h('textarea', { name: spec.name, rows: '3', maxlength: String(spec.maxLength) });
      control.value = value ?? '';
    } else if (spec.kind === 'multi') {
      const chosen = new Set(value || []);
      const box = h('fieldset', { class: 'field checks', dataset: { field: spec.name } }, h('legend', {}, spec.label, h('span', { class: 'required', 'aria-hidden': 'true', hidden: true }, ' required')));
      for (const [v, t] of spec.choices) {
        const id = uid('c');
        add(box, h('div', { class: 'check' }, h('input', { type: 'checkbox', id, name: spec.name, value: v, checked: chosen.has(v) }), h('label', { for: id }, t)));
      }
      add(box, h('p', { class: 'field-error', hidden: true }));
      return box;
    } else if (spec.kind === 'slots') {
      const box = h('fieldset', { class: 'field slots', dataset: { field: spec.name } }, h('legend', {}, spec.label, h('span', { class: 'required', 'aria-hidden': 'true', hidden: true }, ' required')));
      for (const [slot, text] of FOOTFALL_SLOTS) {
        const input = h('input', { type: 'number', name: `${spec.name}.${slot}`, inputmode: 'numeric', min: '0', max: String(spec.max), step: '1', value: value?.[slot] ?? '' });
        add(box, field(`${text} footfall`, input));
      }
      add(box, h('p', { class: 'field-error', hidden: true }));
      return box;
    } else if (spec.kind === 'competitors') {
      const box = h('fieldset', { class: 'field competitors', dataset: { field: spec.name } }, h('legend', {}, spec.label, h('span', { class: 'required', 'aria-hidden': 'true', hidden: true }, ' required')));
      const rows = h('div', { class: 'competitor-rows' });
      const addRow = (row = {}) => {
        const n = rows.children.length + 1;
        add(rows, 
          h(
            'div',
            { class: 'competitor' },
            field(`Competitor ${n} name`, h('input', { name: 'competitor.name', maxlength: '100', value: row.name ?? '' })),
            field(`Competitor ${n} kind`, h('select', { name: 'competitor.kind' }, h('option', { value: '' }, '—'), COMPETITOR_KINDS.map(([v, t]) => h('option', { value: v, selected: v === row.kind }, t)))),
            field(`Competitor ${n} distance (m)`, h('input', { name: 'competitor.distance_m', type: 'number', inputmode: 'numeric', min: '0', max: '50000', value: row.distance_m ?? '' })),
          ),
        );
      };
      for (const row of value || []) addRow(row);
      add(box, rows, h('button', { type: 'button', class: 'button small', onclick: () => { addRow(); this.update(); } }, 'Add competitor'), h('p', { class: 'field-error', hidden: true }));
      return box;
    }
    const box = field(spec.unit ? `${spec.label} (${spec.unit})` : spec.label, control);
    box.querySelector('label').textContent = spec.label + (spec.unit ? ` (${spec.unit})` : '');
    add(box.querySelector('label'), h('span', { class: 'required', 'aria-hidden': 'true', hidden: true }, ' required'));
    this.controls[spec.name] = control;
    return box;
  }

  /** The form's values in wire form; `null` for an empty optional number. */
  read() {
    const form = this.fieldBoxes.trade_area_type.closest('form');
    const values = {};
    for (const spec of SURVEY_FIELDS) {
      if (spec.kind === 'choice' || spec.kind === 'text') values[spec.name] = form.elements[spec.name].value;
      else if (spec.kind === 'int' || spec.kind === 'number') {
        const raw = form.elements[spec.name].value;
        values[spec.name] = raw === '' ? (form.elements[spec.name].validity.badInput ? NaN : null) : Number(raw);
      } else if (spec.kind === 'multi') {
        values[spec.name] = [...form.querySelectorAll(`input[name="${spec.name}"]:checked`)].map((box) => box.value);
      } else if (spec.kind === 'slots') {
        const slots = {};
        for (const [slot] of FOOTFALL_SLOTS) {
          const raw = form.elements[`${spec.name}.${slot}`].value;
          if (raw !== '') slots[slot] = Number(raw);
        }
        values[spec.name] = slots;
      } else if (spec.kind === 'competitors') {
        values[spec.name] = [...form.querySelectorAll('.competitor')]
          .map((row) => ({
            name: row.querySelector('[name="competitor.name"]').value.trim(),
            kind: row.querySelector('[name="competitor.kind"]').value,
            distance_m: row.querySelector('[name="competitor.distance_m"]').value === '' ? null : Number(row.querySelector('[name="competitor.distance_m"]').value),
          }))
          .filter((row) => row.name || row.kind || row.distance_m !== null);
      }
    }
    for (const name of ['lat', 'lon', 'accuracy_m', 'captured_at']) values[name] = this.values[name] ?? null;
    return values;
  }

  update({ initial = false } = {}) {
    if (!initial) this.dirty = true;
    const values = this.read();
    const tradeArea = values.trade_area_type || this.store.trade_area_type;
    const template = templateFor(this.templates, tradeArea);
    this.template = template;
    const required = new Set(requiredItems(template, values).map((item) => item.item));
    for (const [name, box] of Object.entries(this.fieldBoxes)) {
      const marker = box.querySelector('.required');
      if (marker) marker.hidden = !required.has(name);
      const control = box.querySelector('input, select, textarea');
      if (control && box.classList.contains('field') && !['multi', 'slots', 'competitors'].includes(FIELD_BY_NAME[name].kind)) {
        if (required.has(name)) control.setAttribute('aria-required', 'true');
        else control.removeAttribute('aria-required');
      }
    }
    const photos = [...this.photos, ...this.staged];
    if (!template) {
      this.scoreLine.textContent = `No survey template for ${label(TRADE_AREA_TYPES, tradeArea) || 'this trade area'}: every field is optional.`;
      this.meter.value = 0;
      this.missingLine.textContent = '';
      return;
    }
    const score = completeness({ template, values, photos, store: this.store, geofence: this.app.config.geofence });
    this.meter.value = score.score;
    this.scoreLine.textContent = `Complete: ${Math.round(score.score * 100)}% (${score.present} of ${score.required} required items)`;
    this.missingLine.textContent = score.missing.length ? `Missing: ${score.missing.map(itemLabel).join(', ')}` : 'Everything the template asks for is there.';
    if (!initial) this.showErrors(validateSurvey(values), { onlyFilled: true });
  }

  showErrors(errors) {
    for (const [name, box] of Object.entries(this.fieldBoxes)) {
      const messages = errors[name] || [];
      const target = box.querySelector(':scope > .field-error') || box.querySelector('.field-error');
      if (target) {
        target.textContent = messages.join(' ');
        target.hidden = !messages.length;
      }
      const control = this.controls[name];
      if (control) control.setAttribute('aria-invalid', messages.length ? 'true' : 'false');
    }
  }

  async captureFix({ initial = false }) {
    if (!initial) this.positionLine.textContent = 'Getting your position…';
    const fix = await this.app.locate({ maximumAge: initial ? 60_000 : 0 });
    if (fix.error) {
      if (this.positionLine) this.positionLine.textContent = fix.error;
      return;
    }
    Object.assign(this.values, {
      lat: fix.lat,
      lon: fix.lon,
      accuracy_m: Math.round(fix.accuracy * 10) / 10,
      captured_at: new Date().toISOString(),
    });
    this.positionChanged = true;
    this.showPosition();
    if (this.meter) this.update({ initial: true });
  }

  showPosition() {
    if (!this.positionLine) return;
    const { lat, lon, accuracy_m: accuracy, captured_at: at } = this.values;
    if (lat == null) {
      this.positionLine.textContent = 'No position yet.';
      return;
    }
    const distance = distanceM(lat, lon, this.store.lat, this.store.lon);
    this.positionLine.textContent = `Position ±${Math.round(accuracy ?? 0)} m, ${formatDistance(distance)} from the store, ${formatDateTime(at)}.`;
  }

  mounted() {
    this.showPosition();
  }

  async addPhotos(input) {
    const file = input.files?.[0];
    input.value = '';
    this.photoError.hidden = true;
    if (!file) return;
    const type = file.type || 'image/jpeg';
    if (!PHOTO_CONTENT_TYPES.includes(type)) {
      this.photoError.textContent = 'Only JPEG, PNG or WebP photos can be sent.';
      this.photoError.hidden = false;
      return;
    }
    if (file.size > this.app.config.photo_max_bytes) {
      this.photoError.textContent = `This photo is too large (${(file.size / 1048576).toFixed(1)} MB; at most ${(this.app.config.photo_max_bytes / 1048576).toFixed(0)} MB).`;
      this.photoError.hidden = false;
      return;
    }
    const bytes = await file.arrayBuffer();
    const digest = await crypto.subtle.digest('SHA-256', bytes);
    const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    const fix = this.app.position;
    this.staged.push({
      id: this.app.client.newId(),
      section: this.photoSection.value,
      sha256,
      content_type: type,
      taken_at: new Date(file.lastModified || Date.now()).toISOString(),
      lat: fix ? fix.lat : null,
      lon: fix ? fix.lon : null,
      blob: new Blob([bytes], { type }),
    });
    this.renderPhotos();
    this.update();
  }

  renderPhotos() {
    const items = [
      ...this.photos.map((photo) => ({ photo, label: photo.uploaded_at ? 'sent' : 'bytes waiting' })),
      ...this.staged.map((photo) => ({ photo, label: 'new', blob: photo.blob })),
    ];
    replaceChildren(
      this.photoList,
      items.length
        ? items.map(({ photo, label: state, blob }) =>
            h(
              'li',
              { class: 'photo' },
              blob ? h('img', { src: URL.createObjectURL(blob), alt: `${label(PHOTO_SECTIONS, photo.section)} photo`, width: '96', height: '96' }) : null,
              h('span', {}, `${label(PHOTO_SECTIONS, photo.section)} · ${state} · ${photo.sha256.slice(0, 8)}`),
              blob
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'button small danger',
                      'aria-label': `Remove ${label(PHOTO_SECTIONS, photo.section)} photo`,
                      onclick: () => {
                        this.staged = this.staged.filter((candidate) => candidate !== photo);
                        this.renderPhotos();
                        this.update();
                      },
                    },
                    'Remove',
                  )
                : null,
            ),
          )
        : h('li', { class: 'muted' }, 'No photos yet.'),
    );
  }

  async save() {
    const values = this.read();
    const errors = validateSurvey(values);
    this.showErrors(errors);
    if (Object.keys(errors).length) {
      this.formError.textContent = 'Some values are not possible: see the fields marked.';
      this.formError.hidden = false;
      this.fieldBoxes[Object.keys(errors).find((name) => this.fieldBoxes[name])]?.scrollIntoView({ block: 'center' });
      return;
    }
    this.formError.hidden = true;
    const client = this.app.client;
    let surveyId;
    if (this.survey) {
      surveyId = this.survey.id;
      const changed = {};
      for (const [name, value] of Object.entries(values)) {
        if (['lat', 'lon', 'accuracy_m', 'captured_at'].includes(name) && !this.positionChanged) continue;
        if (JSON.stringify(value) !== JSON.stringify(this.survey[name] ?? defaultOf(name))) changed[name] = value;
      }
      const refused = this.fixSeq ? (await client.rejected()).find((entry) => entry.seq === this.fixSeq) : null;
      if (refused) {
        // The refused edit goes again with the form's values for its fields, as a new mutation.
        const corrections = { ...changed };
        for (const name of Object.keys(refused.fields || {})) if (name in values) corrections[name] = values[name];
        await client.resend(refused.seq, corrections);
      } else if (Object.keys(changed).length) {
        await client.change({ entity: 'survey', op: 'update', id: surveyId, fields: changed });
      }
    } else {
      surveyId = this.surveyIdForPhotos;
      const fields = { store: this.store.id, ...dropEmpty(values) };
      if (!fields.captured_at) fields.captured_at = new Date().toISOString();
      if (this.template) fields.template_version = this.template.version;
      await client.change({ entity: 'survey', op: 'create', id: surveyId, fields });
    }
    for (const photo of this.staged) {
      const { blob, id, ...metadata } = photo;
      await client.addPhotoBytes({ id, blob, sha256: photo.sha256, contentType: photo.content_type });
      await client.change({ entity: 'photo', op: 'create', id, fields: { survey: surveyId, ...metadata } });
    }
    this.staged = [];
    this.dirty = false;
    this.app.changed();
    this.app.go(`#/store/${this.store.id}`);
  }

  refreshAfterSync() {
    return false;
  }
}

function defaultOf(name) {
  const kind = FIELD_BY_NAME[name]?.kind;
  if (kind === 'multi' || kind === 'competitors') return [];
  if (kind === 'slots') return {};
  if (kind === 'choice' || kind === 'text') return '';
  return null;
}

function pickSurveyValues(survey) {
  const values = {};
  for (const spec of SURVEY_FIELDS) values[spec.name] = survey[spec.name] ?? defaultOf(spec.name);
  for (const name of ['lat', 'lon', 'accuracy_m', 'captured_at']) values[name] = survey[name] ?? null;
  return values;
}

function dropEmpty(values) {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== null && value !== undefined));
}

// --- new prospect store -----------------------------------------------------------------
