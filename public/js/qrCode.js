/**
 * The join link as a QR code, for the big screen's lobby: players point their phone's
 * camera at it instead of typing the code. The encoder is the `qrcode-generator` package,
 * which the API server serves from node_modules at /vendor/qrcode.mjs (the page fetches
 * nothing from anywhere else); it is loaded only when a QR code is wanted. Drawn as SVG
 * (one path of dark squares on a white field with the standard 4-module quiet zone), so it
 * stays sharp at any size and needs no inline style.
 */
import { svg } from './dom.js';

const QUIET_ZONE = 4;

/** An <svg> showing `text` as a QR code, labelled for screen readers with `label`. */
export async function qrCodeSvg(text, label) {
  const { default: qrcode } = await import('/vendor/qrcode.mjs');
  // Type 0: the smallest version that fits; level M survives a smudge or a glare spot.
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const count = qr.getModuleCount();
  const size = count + QUIET_ZONE * 2;
  let d = '';
  for (let row = 0; row < count; row++) {
    for (let col = 0; col < count; col++) {
      if (qr.isDark(row, col)) d += `M${col + QUIET_ZONE} ${row + QUIET_ZONE}h1v1h-1z`;
    }
  }
  return svg(
    'svg',
    { class: 'qr-code', viewBox: `0 0 ${size} ${size}`, role: 'img', 'aria-label': label, 'shape-rendering': 'crispEdges' },
    svg('rect', { width: size, height: size, fill: '#fff' }),
    svg('path', { d, fill: '#000' }),
  );
}
