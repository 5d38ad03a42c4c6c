/** Small formatting helpers shared by the game and the ops dashboard. */

/** Join codes: upper case, spaces and dashes dropped (people paste "k7q-x2m"). */
export function normalizeCode(raw) {
  return String(raw ?? '').toUpperCase().replace(/[\s-]+/g, '');
}

/** PROTOCOL.md: 6 characters from ABCDEFGHJKLMNPQRSTUVWXYZ23456789. */
export function isValidCode(code) {
  return /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/.test(code);
}

// The server's rule (src/quiz/engine.ts): control, format, private-use, unassigned, and any
// space but U+0020 are not allowed in names.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}]|(?! )\p{Zs}/u;

/** True when the server will accept `name` (1..20 visible characters after trimming). */
export function isValidName(name) {
  const t = String(name ?? '').trim();
  const chars = [...t].length;
  return chars >= 1 && chars <= 20 && !INVISIBLE.test(t);
}

export function ordinal(n) {
  const mod100 = n % 100;
  if (mod100 >= 11 && mod100 <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th'}`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** 93_000 → "1m 33s"; 3_900_000 → "1h 05m"; 200_000_000 → "2d 7h". */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

export function timeAgo(timestamp, now = Date.now()) {
  const s = Math.round((now - timestamp) / 1000);
  if (!Number.isFinite(s)) return '';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function formatNumber(n) {
  return Number.isFinite(n) ? n.toLocaleString() : '–';
}
