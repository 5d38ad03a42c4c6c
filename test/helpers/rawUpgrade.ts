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
