/**
 * What a question's `image` may be (PROTOCOL.md Part 2, "Game night additions"): a `data:`
 * URL of a PNG, JPEG or WebP picture in base64, or the bare name of an image shipped with the
 * built-in quizzes. Nothing that makes a browser fetch from elsewhere (http(s) links would tell
 * a third party who plays), and no SVG data: an SVG is a document that can carry script.
 *
 * The page's editor mirrors these rules (public/js/quizValidation.js).
 */

/** The images under `public/quiz-images/` (a unit test holds the list and the folder together). */
export const SHIPPED_QUIZ_IMAGES: readonly string[] = ['saturn.svg', 'moon.svg', 'flag-japan.svg'];

const DATA_URL = /^data:image\/(png|jpeg|webp);base64,[A-Za-z0-9+/]+={0,2}$/;
const ANY_DATA_URL = /^data:([^;,]*)[;,]/i;

/**
 * Why `image` is not acceptable, as a sentence for people, or null when it is. `maxBytes`
 * bounds a data URL (ASCII, so its length is its size); shipped names are always small.
 */
export function imageProblem(image: string, maxBytes: number): string | null {
  if (SHIPPED_QUIZ_IMAGES.includes(image)) return null;
  if (/^https?:/i.test(image)) return 'must be a data: URL or a shipped image name, not a link to another site';
  const data = ANY_DATA_URL.exec(image);
  if (!data) return `must be a data: URL (PNG, JPEG or WebP, base64) or one of the shipped images: ${SHIPPED_QUIZ_IMAGES.join(', ')}`;
  if (!/^image\/(png|jpeg|webp)$/.test(data[1]!)) return `must be a PNG, JPEG or WebP picture, not ${data[1] || 'untyped data'}`;
  if (image.length > maxBytes) return `is ${image.length} bytes; at most ${maxBytes} (MAX_IMAGE_BYTES)`;
  if (!DATA_URL.test(image)) return 'must be base64 data (data:image/…;base64,…)';
  return null;
}
