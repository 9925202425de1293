// Building DOM nodes without innerHTML, so text from the server is never parsed as markup.

/**
 * Create an element. `props` keys: `class`, `text`, `dataset` (object), `on` (event -> listener),
 * `hidden`/`disabled`/`checked`/`selected`/`value` (properties), anything else as an attribute
 * (skipped when null, undefined or false). Children: nodes, strings, arrays, null (skipped).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (['hidden', 'disabled', 'checked', 'selected', 'value', 'multiple'].includes(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A "loading" line for a region that is waiting for data; marks it busy for assistive tech. */
export function loading(el, text) {
  el.setAttribute('aria-busy', 'true');
  return replace(el, h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text));
}

export function loaded(el) {
  el.removeAttribute('aria-busy');
  return el;
}

/** Fill a <select> with options; keeps the current value when it is still offered. */
export function fillSelect(select, items, { placeholder = null, value = select.value } = {}) {
  const options = items.map(({ value: v, label }) => h('option', { value: String(v) }, label));
  if (placeholder !== null) options.unshift(h('option', { value: '' }, placeholder));
  select.replaceChildren(...options);
  if ([...select.options].some((o) => o.value === String(value))) select.value = String(value);
  return select;
}

/**
 * A data table. `rows`: `{ cells: [...], attrs?: {...} }`; the first cell of a row is its header.
 * An empty `rows` gives a paragraph with `emptyText` instead.
 */
export function table({ headers, rows, caption = null, emptyText = '' }) {
  if (!rows.length) return h('p', { class: 'empty' }, emptyText);
  return h(
    'table',
    { class: 'data-table' },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((label) => h('th', { scope: 'col' }, label)))),
    h(
      'tbody',
      {},
      rows.map(({ cells, attrs }) =>
        h('tr', attrs ?? {}, cells.map((cell, i) => (i === 0 ? h('th', { scope: 'row' }, cell) : h('td', {}, cell)))),
      ),
    ),
  );
}
