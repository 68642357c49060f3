// The survey's fields and rules as the server has them (surveys/models.py, serializers.py,
// selectors.py): one place, so the form refuses what the server would refuse and scores
// completeness the way HQ sees it. No DOM here.

import { distanceM, surveyFenceAllows } from './geo.js';

export const TRADE_AREA_TYPES = [
  ['office', 'Office'],
  ['residential', 'Residential'],
  ['transit', 'Transit hub'],
  ['school', 'School'],
  ['hospital', 'Hospital'],
  ['industrial', 'Industrial'],
  ['tourist', 'Tourist'],
  ['mixed', 'Mixed'],
];
export const CUSTOMER_GROUPS = [
  ['office_workers', 'Office workers'],
  ['students', 'Students'],
  ['residents', 'Residents'],
  ['commuters', 'Commuters'],
  ['tourists', 'Tourists'],
  ['workers', 'Industrial workers'],
  ['patients_visitors', 'Patients and visitors'],
  ['families', 'Families'],
  ['seniors', 'Seniors'],
];
export const EQUIPMENT = [
  ['coffee_machine', 'Coffee machine'],
  ['microwave', 'Microwave'],
  ['open_chiller', 'Open chiller'],
  ['freezer', 'Freezer'],
  ['hot_food_cabinet', 'Hot food cabinet'],
  ['oven', 'Oven'],
  ['bake_off', 'Bake-off station'],
  ['seating', 'Seating'],
];
export const COMPETITOR_KINDS = [
  ['convenience', 'Convenience store'],
  ['supermarket', 'Supermarket'],
  ['bakery', 'Bakery'],
  ['cafe', 'Café'],
  ['fast_food', 'Fast food'],
  ['vending', 'Vending machines'],
  ['other', 'Other'],
];
export const SIGNAL_QUALITY = [
  ['none', 'No signal'],
  ['poor', 'Poor'],
  ['fair', 'Fair'],
  ['good', 'Good'],
  ['excellent', 'Excellent'],
];
export const PHOTO_SECTIONS = [
  ['storefront', 'Storefront'],
  ['interior', 'Interior'],
  ['shelf', 'Fresh shelf'],
  ['equipment', 'Equipment'],
  ['surroundings', 'Surroundings'],
  ['other', 'Other'],
];
export const FOOTFALL_SLOTS = [
  ['morning', 'Morning'],
  ['lunch', 'Lunch'],
  ['evening', 'Evening'],
];
export const PHOTO_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/webp'];

/**
 * The form's fields in the order shown. `kind`: choice, int, number, multi, slots,
 * competitors, text. Bounds are the server's validators.
 */
export const SURVEY_FIELDS = [
  { name: 'trade_area_type', label: 'Trade area', kind: 'choice', choices: TRADE_AREA_TYPES, group: 'Outside the store' },
  { name: 'footfall_weekday', label: 'Footfall on a weekday', kind: 'int', min: 0, max: 1_000_000, unit: 'people per day', group: 'Outside the store' },
  { name: 'footfall_weekend', label: 'Footfall on a weekend day', kind: 'int', min: 0, max: 1_000_000, unit: 'people per day', group: 'Outside the store' },
  { name: 'footfall_slots', label: 'Footfall by time of day', kind: 'slots', min: 0, max: 1_000_000, group: 'Outside the store' },
  { name: 'customer_groups', label: 'Main customer groups', kind: 'multi', choices: CUSTOMER_GROUPS, maxItems: 50, group: 'Outside the store' },
  { name: 'competitors', label: 'Competitors nearby', kind: 'competitors', maxItems: 50, group: 'Outside the store' },
  { name: 'area_m2', label: 'Sales area', kind: 'number', min: 0, max: 100_000, unit: 'm²', group: 'Inside the store' },
  { name: 'equipment', label: 'Equipment', kind: 'multi', choices: EQUIPMENT, maxItems: 50, group: 'Inside the store' },
  { name: 'signal_quality', label: 'Phone signal inside', kind: 'choice', choices: SIGNAL_QUALITY, group: 'Inside the store' },
  { name: 'fresh_shelf_m', label: 'Shelf space for fresh food', kind: 'number', min: 0, max: 1000, unit: 'm', group: 'Inside the store' },
  { name: 'notes', label: 'Notes', kind: 'text', maxLength: 5000, group: 'Inside the store' },
];
export const FIELD_BY_NAME = Object.fromEntries(SURVEY_FIELDS.map((field) => [field.name, field]));

// How "present" reads for each requirable field (surveys/selectors.py field_present).
const TEXT_FIELDS = ['trade_area_type', 'signal_quality', 'notes'];
const VALUE_FIELDS = ['footfall_weekday', 'footfall_weekend', 'area_m2', 'fresh_shelf_m', 'captured_at'];
const LIST_FIELDS = ['customer_groups', 'competitors', 'equipment'];
const OBJECT_FIELDS = ['footfall_slots'];

export function fieldPresent(name, value) {
  if (TEXT_FIELDS.includes(name)) return typeof value === 'string' && value !== '';
  if (VALUE_FIELDS.includes(name)) return value !== null && value !== undefined;
  if (LIST_FIELDS.includes(name)) return Array.isArray(value) && value.length > 0;
  if (OBJECT_FIELDS.includes(name)) return !!value && typeof value === 'object' && Object.keys(value).length > 0;
  return false;
}

/** The template in force for a trade-area type: its latest version. */
export function templateFor(templates, tradeAreaType) {
  let best = null;
  for (const template of templates || []) {
    if (template.trade_area_type !== tradeAreaType) continue;
    if (!best || template.version > best.version) best = template;
  }
  return best;
}

/**
 * The items a template requires of these values (surveys/selectors.py TemplateRules):
 * required fields, conditional fields whose condition holds, photo sections, GPS.
 */
export function requiredItems(template, values) {
  if (!template) return [];
  const required = [...new Set(template.required_fields || [])];
  const items = required.map((name) => ({ item: name, field: name }));
  for (const rule of template.conditional_fields || []) {
    if (required.includes(rule.field)) continue;
    const held =
      rule.when.field === 'trade_area_type' ? template.trade_area_type : values[rule.when.field];
    if (rule.when.in.includes(held)) items.push({ item: rule.field, field: rule.field });
  }
  for (const [section, minimum] of Object.entries(template.min_photos || {}).sort()) {
    if (minimum > 0) items.push({ item: `photos.${section}`, section, minimum });
  }
  items.push({ item: 'gps', gps: true });
  return items;
}

/**
 * Completeness as the server scores it: present required items / required items.
 * `photos`: the survey's photos ({section}); counted as present here, since the phone
 * sends their bytes at the next sync (the server counts them once they arrive).
 */
export function completeness({ template, values, photos = [], store = null, geofence = null }) {
  const items = requiredItems(template, values);
  const missing = [];
  let present = 0;
  for (const item of items) {
    let ok;
    if (item.field) ok = fieldPresent(item.field, values[item.field]);
    else if (item.section) ok = photos.filter((photo) => photo.section === item.section).length >= item.minimum;
    else ok = gpsPresent({ template, values, store, geofence });
    if (ok) present += 1;
    else missing.push(item.item);
  }
  const required = items.length;
  return { required, present, missing, score: required === 0 ? 1 : present / required };
}

function gpsPresent({ template, values, store, geofence }) {
  if (values.lat == null || values.lon == null) return false;
  if (!template.gps_within_geofence || !store || !geofence) return true;
  const distance = distanceM(values.lat, values.lon, store.lat, store.lon);
  return surveyFenceAllows({ distance, accuracy: values.accuracy_m, store, geofence });
}

/** The label an item of `missing` is shown with. */
export function itemLabel(item) {
  if (item === 'gps') return 'Position at the store';
  if (item.startsWith('photos.')) {
    const section = PHOTO_SECTIONS.find(([value]) => value === item.slice(7));
    return `Photo: ${section ? section[1] : item.slice(7)}`;
  }
  return FIELD_BY_NAME[item]?.label ?? item;
}

const isInt = (value) => typeof value === 'number' && Number.isInteger(value);
const isNumber = (value) => typeof value === 'number' && Number.isFinite(value);

function boundsError(field, value, integer) {
  if (integer ? !isInt(value) : !isNumber(value)) return integer ? 'A whole number is required.' : 'A number is required.';
  if (value < field.min) return `Ensure this value is greater than or equal to ${field.min}.`;
  if (value > field.max) return `Ensure this value is less than or equal to ${field.max}.`;
  return null;
}

/**
 * The server's validation of the fields given ({field: [messages]}, empty when fine):
 * bounds, enums, list lengths, competitor rows, footfall slots, position.
 */
export function validateSurvey(values) {
  const errors = {};
  const add = (name, message) => (errors[name] ||= []).push(message);
  for (const [name, value] of Object.entries(values)) {
    const field = FIELD_BY_NAME[name];
    if (value === null || value === undefined) continue;
    if (!field) {
      validatePosition(name, value, add);
      continue;
    }
    if (field.kind === 'int' || field.kind === 'number') {
      const message = boundsError(field, value, field.kind === 'int');
      if (message) add(name, message);
    } else if (field.kind === 'choice') {
      if (value !== '' && !field.choices.some(([choice]) => choice === value)) add(name, `"${value}" is not a valid choice.`);
    } else if (field.kind === 'multi') {
      if (!Array.isArray(value)) add(name, 'A list is required.');
      else {
        if (value.length > field.maxItems) add(name, `Ensure this field has no more than ${field.maxItems} elements.`);
        for (const item of value) if (!field.choices.some(([choice]) => choice === item)) add(name, `"${item}" is not a valid choice.`);
      }
    } else if (field.kind === 'slots') {
      for (const [slot, count] of Object.entries(value)) {
        if (!FOOTFALL_SLOTS.some(([known]) => known === slot)) add(name, `${slot}: Unknown slot; use morning, lunch, evening.`);
        else {
          const message = boundsError(field, count, true);
          if (message) add(name, `${slot}: ${message}`);
        }
      }
    } else if (field.kind === 'competitors') {
      if (value.length > field.maxItems) add(name, `Ensure this field has no more than ${field.maxItems} elements.`);
      value.forEach((row, index) => {
        const where = `Competitor ${index + 1}`;
        if (typeof row.name !== 'string' || row.name.trim() === '') add(name, `${where}: a name is required.`);
        else if (row.name.length > 100) add(name, `${where}: at most 100 characters.`);
        if (!COMPETITOR_KINDS.some(([kind]) => kind === row.kind)) add(name, `${where}: choose a kind.`);
        if (!isNumber(row.distance_m) || row.distance_m < 0 || row.distance_m > 50_000) {
          add(name, `${where}: a distance from 0 to 50000 m is required.`);
        }
      });
    } else if (field.kind === 'text') {
      if (value.length > field.maxLength) add(name, `Ensure this field has no more than ${field.maxLength} characters.`);
    }
  }
  return errors;
}

function validatePosition(name, value, add) {
  const bounds = { lat: [-90, 90], lon: [-180, 180], accuracy_m: [0, 100_000] }[name];
  if (!bounds) return;
  if (!isNumber(value)) add(name, 'A number is required.');
  else if (value < bounds[0] || value > bounds[1]) add(name, `Must be from ${bounds[0]} to ${bounds[1]}.`);
}

/** The store fields a rep may set on a new prospect (stores/syncing.py creators). */
export function validateNewStore(values) {
  const errors = {};
  const add = (name, message) => (errors[name] ||= []).push(message);
  if (!values.name || !values.name.trim()) add('name', 'A name is required.');
  else if (values.name.length > 200) add('name', 'At most 200 characters.');
  if (values.phone && !/^[0-9+()\-./ ]{3,50}$/.test(values.phone)) add('phone', 'Digits, spaces and + ( ) - / . only.');
  if ((values.address || '').length > 300) add('address', 'At most 300 characters.');
  if (values.trade_area_type && !TRADE_AREA_TYPES.some(([value]) => value === values.trade_area_type)) {
    add('trade_area_type', `"${values.trade_area_type}" is not a valid choice.`);
  }
  if (values.lat == null || values.lon == null) add('lat', 'The store needs a position: use your current one.');
  return errors;
}
