/**
 * Who may read the operators' endpoints (`/workers/stats`, `/metrics`, and later `/hosts`,
 * `/admin/*`): a loopback client as before (the seed's `curl localhost:3001/...` keeps
 * working), anyone else only with `Authorization: Bearer <OPS_TOKEN>`. Without OPS_TOKEN set,
 * nobody but loopback gets in. Stats list every live join code, so this is what keeps a
 * stranger from walking into every match.
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from '../protocol/errors';
import { isLocalClient, type TrustFn } from './clientAddress';

export function opsAccess(opsToken: string | undefined, trust: TrustFn) {
  const expected = opsToken ? Buffer.from(opsToken) : null;
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (isLocalClient(req, trust)) return next();
    if (!expected) throw new HttpError('OPS_FORBIDDEN', 'Operators’ endpoints answer loopback clients only; set OPS_TOKEN to allow others.');
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!given || !sameSecret(Buffer.from(given), expected)) throw new HttpError('OPS_FORBIDDEN');
    next();
  };
}

function sameSecret(a: Buffer, b: Buffer): boolean {
  // Constant time, so the token cannot be guessed a byte at a time from answer times.
  return a.length === b.length && timingSafeEqual(a, b);
}
