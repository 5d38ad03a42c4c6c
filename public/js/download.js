/** Saving something the page made (a CSV, a quiz file) as a download, without a server. */
import { h } from './dom.js';

/** A blob: URL for `content`; a link with `download` and this URL saves it. */
export function fileUrl(content, type) {
  return URL.createObjectURL(new Blob([content], { type }));
}

/** Starts the download of `content` as `fileName`. */
export function downloadFile(fileName, content, type) {
  const url = fileUrl(content, type);
  const link = h('a', { href: url, download: fileName, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A file-name-safe piece from free text ("Quiz night #3!" → "quiz-night-3"); `fallback` if none is left. */
export function fileNameSlug(text, fallback) {
  const slug = String(text ?? '')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
    .replace(/-+$/, '')
    .toLowerCase();
  return slug || fallback;
}
