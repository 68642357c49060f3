// Building the page from elements, never from HTML strings or inline styles (the app runs under a
// strict Content-Security-Policy): elements from tag, attributes and children.

/**
 * h('button', {class: 'button', onclick: fn}, 'Save') -> <button class="button">Save</button>
 * Attributes: `class`, `for`, `on<event>` (listeners), `dataset` (object), booleans
 * (true sets, false/null/undefined omits), anything else as a string attribute.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (name === 'value') {
      element.value = value;
    } else if (name === 'checked' || name === 'selected') {
      element[name] = Boolean(value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Append children, skipping null, undefined and false (which DOM append would print). */
export function add(element, ...children) {
  append(element, children);
  return element;
}

export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

let counter = 0;
/** A unique id for pairing a <label> with its control. */
export function uid(prefix = 'f') {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled control: <div class="field"><label for>…</label>control<p error></p></div>. */
export function field(label, control, { hint, required = false } = {}) {
  const id = control.id || uid();
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  control.setAttribute('aria-describedby', `${id}-error`);
  if (required) control.setAttribute('aria-required', 'true');
  return h(
    'div',
    { class: 'field', dataset: { field: control.name || '' } },
    h('label', { for: id }, label, required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' required') : null),
    hint ? h('p', { class: 'hint' }, hint) : null,
    control,
    error,
  );
}

/** Show messages under a field made by `field` (none: hide). */
export function showFieldError(container, messages) {
  const error = container.querySelector('.field-error');
  if (!error) return;
  const text = (messages || []).join(' ');
  error.textContent = text;
  error.hidden = !text;
  const control = container.querySelector('input, select, textarea');
  if (control) control.setAttribute('aria-invalid', text ? 'true' : 'false');
}

export function formatDateTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return date.toLocaleString(undefined, {
    day: 'numeric',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });
}

export function formatDate(iso) {
  if (!iso) return '';
  const [year, month, day] = iso.slice(0, 10).split('-').map(Number);
  return new Date(year, month - 1, day).toLocaleDateString(undefined, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
  });
}

export function formatDistance(metres) {
  if (metres === null || metres === undefined) return '';
  return metres < 1000 ? `${Math.round(metres)} m` : `${(metres / 1000).toFixed(1)} km`;
}

/** Today in the phone's calendar, as YYYY-MM-DD. */
export function today() {
  const now = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
