/**
 * CSV that spreadsheets open safely (RFC 4180: a cell with a comma, double quote or line
 * break is quoted and its quotes doubled; rows end with CRLF). Names and quiz text are
 * anyone's input, and a spreadsheet runs a cell starting with = + - @ (or a tab or carriage
 * return) as a formula: such text cells get a leading single quote, which shows it as text.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One cell: numbers as they are, null/undefined empty, anything else as escaped text. */
export function csvCell(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  let text = String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * A whole file from rows of cells (an empty row is a blank line). Starts with a byte order
 * mark so Excel reads the names as UTF-8.
 */
export function toCsv(rows) {
  return `\uFEFF${rows.map((row) => row.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
