/**
 * Who the client is, for per-address limits: the peer address, or the address a trusted
 * proxy put in `X-Forwarded-For` (`TRUST_PROXY`). HTTP requests (through express's
 * `trust proxy`) and WebSocket upgrades (which never reach express) use the same function,
 * so an address counts the same on both paths.
 */
import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export type TrustFn = (addr: string, hop: number) => boolean;

/**
 * `TRUST_PROXY` as express reads its `trust proxy` setting: empty or `false` trusts nobody,
 * `true` trusts every hop, a number trusts that many hops, anything else is a comma-separated
 * list of addresses, CIDR ranges or the names `loopback`, `linklocal`, `uniquelocal`.
 * Throws on a list proxy-addr cannot read, so a typo stops start-up.
 */
export function compileTrust(setting: string | undefined): TrustFn {
  const value = (setting ?? '').trim();
  if (value === '' || value === 'false') return () => false;
  if (value === 'true') return () => true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_addr, hop) => hop < hops;
  }
  return proxyAddr.compile(value.split(',').map((v) => v.trim()).filter(Boolean));
}

/** The client's address: the first untrusted hop, from the peer backwards through X-Forwarded-For. */
export function clientAddress(req: IncomingMessage, trust: TrustFn): string {
  // A socket destroyed before we look has no remoteAddress; proxy-addr needs one.
  if (!req.socket.remoteAddress) return 'unknown';
  return normalize(proxyAddr(req, trust));
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same client. */
function normalize(addr: string): string {
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

export function isLoopback(addr: string): boolean {
  return addr === '::1' || addr.startsWith('127.');
}

/**
 * A client on this machine (an operator's `curl localhost:3001/...`, the load tool): it may
 * read the operators' endpoints and is not held to the per-address limits on creating
 * matches. It is held to the connection cap and the message budgets like anyone: a flood
 * from this machine is still a flood. A request that came
 * through a proxy we were not told to trust is never local: its peer is the proxy, and every
 * stranger behind it would otherwise pass for an operator.
 */
export function isLocalClient(req: IncomingMessage, trust: TrustFn): boolean {
  if (!isLoopback(clientAddress(req, trust))) return false;
  const forwarded = req.headers['x-forwarded-for'] !== undefined;
  return !forwarded || trust(req.socket.remoteAddress ?? '', 0);
}
