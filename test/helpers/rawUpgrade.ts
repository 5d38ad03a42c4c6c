/** WebSocket upgrade requests sent by hand, for what a real `ws` client would never do. */
import net from 'node:net';

/**
 * Sends `count` upgrade requests for `path`, each reset (TCP RST) by the client at once or
 * a millisecond or two later, while the server is answering it. Bounded in count and time.
 */
export async function resetUpgrades(port: number, path: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
            'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
        );
        setTimeout(() => {
          s.resetAndDestroy();
          clearTimeout(timer);
          resolve();
        }, i % 3);
      });
      s.on('error', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * A WebSocket opened by hand on a raw TCP socket, for a client that stops reading: `ws`
 * has no public way to stop reading its socket. Resolves once the server answered 101;
 * after that the caller decides whether anything is ever read again.
 */
export function rawWebSocket(port: number, path: string, headers: Record<string, string> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`,
      );
    });
    let head = '';
    const timer = setTimeout(() => fail(new Error('no upgrade answer within 10 s')), 10_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      s.off('data', onData);
      // Back to paused mode: nothing more is read unless the caller asks.
      s.pause();
      clearTimeout(timer);
      if (!head.startsWith('HTTP/1.1 101')) return fail(new Error(`upgrade answered ${head.split('\r\n')[0]}`));
      resolve(s);
    };
    s.on('data', onData);
    s.on('error', fail);
  });
}

/** A masked client text frame (RFC 6455 §5.2), for payloads under 64 KiB. */
export function clientTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x81, 0x80 | len]) : Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}
