/**
 * A tiny element builder. Every string or number child becomes a text node and every
 * attribute goes through setAttribute, so text from the server (names, quiz questions,
 * choices) can never become markup. There is deliberately no way to pass HTML.
 */

const PROPERTY_KEYS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'indeterminate']);

/**
 * h('button', { class: 'big', dataset: { testid: 'x' }, on: { click } }, 'Label', childNode)
 * - `class`: string or array (falsy entries dropped)
 * - `dataset`: object → data-* attributes
 * - `on`: object of event listeners
 * - `style`: object of CSS properties (custom properties allowed)
 * - value/checked/selected/disabled/hidden: set as properties (after children, so a
 *   <select>'s value can refer to its options)
 * - anything else: an attribute; `true` → present and empty, false/null/undefined → absent
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  const late = [];
  for (const [key, value] of Object.entries(props ?? {})) {
    if (key === 'innerHTML' || key === 'outerHTML' || /^on[a-z]/i.test(key)) {
      throw new Error(`h(): "${key}" is not allowed; use text children and the "on" prop`);
    }
    if (PROPERTY_KEYS.has(key)) {
      late.push([key, value]);
      continue;
    }
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value);
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) el.dataset[k] = String(v);
    } else if (key === 'on') {
      for (const [type, listener] of Object.entries(value)) el.addEventListener(type, listener);
    } else if (key === 'style') {
      for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, String(v));
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  for (const [key, value] of late) el[key] = key === 'value' ? String(value ?? '') : Boolean(value);
  return el;
}

/** Appends children (nested arrays flattened; null/undefined/false skipped; text as text nodes). */
export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false || child === true) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Replaces all children of `parent`. */
export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** SVG elements need their namespace; same safety rules as `h`. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (/^on[a-z]/i.test(key)) throw new Error(`svg(): "${key}" is not allowed`);
    if (value !== undefined && value !== null && value !== false) el.setAttribute(key, String(value));
  }
  return append(el, children);
}

/** Text for screen readers only (the CSS class hides it visually). */
export function srOnly(text) {
  return h('span', { class: 'visually-hidden' }, text);
}
