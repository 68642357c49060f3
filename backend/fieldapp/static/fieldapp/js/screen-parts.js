// Small pieces the app's screens share: choice labels, headings, store links, and
// errors and values in the rep's words.

import { h } from './dom.js';
import { FIELD_BY_NAME } from './survey-rules.js';

export const label = (choices, value) => choices.find(([key]) => key === value)?.[1] ?? value ?? '';

export function storeLink(store) {
  return h('a', { href: `#/store/${store.id}`, class: 'store-link' }, store.name);
}

export function heading(text, ...extra) {
  return h('div', { class: 'screen-head' }, h('h1', { tabindex: '-1' }, text), ...extra);
}

export function errorsText(errors) {
  if (!errors) return '';
  return Object.entries(errors)
    .map(([name, messages]) => {
      const list = Array.isArray(messages) ? messages.map(flattenMessage).join(' ') : flattenMessage(messages);
      return name === 'detail' || name === 'non_field_errors' ? list : `${fieldLabel(name)}: ${list}`;
    })
    .join(' ');
}

function flattenMessage(message) {
  if (typeof message === 'string') return message;
  if (message && typeof message === 'object') return errorsText(message);
  return String(message);
}

export function fieldLabel(name) {
  const known = FIELD_BY_NAME[name]?.label ?? {
    phone: 'Phone',
    name: 'Name',
    address: 'Address',
    check_in_lat: 'Check-in position',
    check_out_at: 'Check-out time',
    due_date: 'Follow-up date',
    note: 'Note',
    status: 'Status',
  }[name];
  return known ?? name.replaceAll('_', ' ');
}

export function valueText(name, value) {
  const field = FIELD_BY_NAME[name];
  if (value === null || value === undefined || value === '') return 'empty';
  if (Array.isArray(value)) {
    if (field?.choices) return value.map((item) => label(field.choices, item)).join(', ') || 'none';
    return value.map((item) => (typeof item === 'object' ? item.name : item)).join(', ') || 'none';
  }
  if (field?.choices) return label(field.choices, value);
  if (typeof value === 'object') return Object.entries(value).map(([k, v]) => `${k} ${v}`).join(', ');
  return String(value);
}
