/**
 * What counts as visible text, and when two names are the same name. Names are how players
 * recognise each other on a shared screen, so a name that looks empty, or looks exactly like
 * somebody else's, is refused.
 */

/**
 * Characters that show as nothing, or as something else than they are: controls, format
 * characters (zero-width, bidi overrides), line and paragraph separators, private-use and
 * unassigned code points, every space other than U+0020 (a no-break space would let
 * "Ann\u00a0Lee" pose as "Ann Lee"), and letters that render blank: the Hangul fillers
 * (U+115F, U+1160, U+3164, U+FFA0), the Braille blank (U+2800) and their kind.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cn}\u115F\u1160\u3164\uFFA0\u2800\u180E\u17B4\u17B5]|(?! )\p{Zs}/u;
/** A name needs at least one character that is not a combining mark or a space. */
const HAS_BASE = /[\p{L}\p{N}\p{P}\p{S}]/u;

export const MAX_NAME_CHARS = 20;

/** Whether `text` has no invisible or look-alike-space characters (names and quiz text). */
export function isVisibleText(text: string): boolean {
  return !INVISIBLE.test(text) && HAS_BASE.test(text);
}

/** The trimmed name if it is 1..20 visible characters (PROTOCOL.md `join`), else null. */
export function validName(raw: string): string | null {
  const name = raw.trim();
  const chars = [...name].length;
  return chars < 1 || chars > MAX_NAME_CHARS || !isVisibleText(name) ? null : name;
}

/**
 * The key two names collide on: Unicode compatibility folding (NFKC: full-width "Ａｎｎ" and
 * ligatures become plain letters) and case folding (upper- then lower-casing, so "STRASSE"
 * and "straße" meet; capital ẞ lower-cases to ß, so ß becomes ss last), then NFKC again
 * because case mapping can denormalize.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toUpperCase().toLowerCase().replace(/ß/g, 'ss').normalize('NFKC');
}
