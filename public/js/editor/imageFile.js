/**
 * A picture from the person's device as a `data:` URL the match service accepts (PNG, JPEG
 * or WebP, base64, the whole string within the size cap). A phone photo is usually far
 * bigger than the cap: it is then scaled down and saved as JPEG until it fits, rather than
 * refused.
 */

export const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
/** Longest side tried, largest first, and JPEG qualities tried at each: a bounded search. */
const SIDES = [1280, 960, 720, 480, 320];
const QUALITIES = [0.85, 0.7, 0.55];

/** @returns {Promise<{ok: true, dataUrl: string, shrunk: boolean} | {ok: false, message: string}>} */
export async function imageFromFile(file, maxBytes) {
  if (!IMAGE_TYPES.includes(file.type)) {
    return { ok: false, message: `“${file.name}” is not a PNG, JPEG or WebP picture.` };
  }
  let dataUrl;
  try {
    dataUrl = await readAsDataUrl(file);
  } catch {
    return { ok: false, message: `“${file.name}” could not be read.` };
  }
  if (dataUrl.length <= maxBytes) return { ok: true, dataUrl, shrunk: false };
  const smaller = await shrink(file, maxBytes);
  if (smaller) return { ok: true, dataUrl: smaller, shrunk: true };
  return { ok: false, message: `“${file.name}” is too big (${kb(dataUrl.length)}; at most ${kb(maxBytes)}) and could not be made smaller.` };
}

export function kb(bytes) {
  return `${Math.ceil(bytes / 1024)} KB`;
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function shrink(file, maxBytes) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null; // not a picture the browser can decode
  }
  try {
    const canvas = document.createElement('canvas');
    const context = canvas.getContext('2d');
    if (!context) return null;
    const longest = Math.max(bitmap.width, bitmap.height);
    // The picture at its own size (if that is within the largest side), then smaller ones.
    const sides = [...new Set(SIDES.map((side) => Math.min(side, longest)))];
    for (const side of sides) {
      const scale = side / longest;
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      // JPEG has no transparency: white behind it rather than black.
      context.fillStyle = '#fff';
      context.fillRect(0, 0, canvas.width, canvas.height);
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      for (const quality of QUALITIES) {
        const url = canvas.toDataURL('image/jpeg', quality);
        if (url.startsWith('data:image/jpeg;base64,') && url.length <= maxBytes) return url;
      }
    }
    return null;
  } finally {
    bitmap.close();
  }
}
