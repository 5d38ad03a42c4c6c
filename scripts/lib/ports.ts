/** Loopback ports for the servers a tool or test starts. */
import net from 'node:net';

/**
 * A port that was free a moment ago on 127.0.0.1 (the kernel's pick). Another process may
 * take it before ours binds it; the servers here fail loudly (EADDRINUSE) when that happens.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
