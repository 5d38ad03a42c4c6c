/**
 * Which browser origins may call the match service (CORS) and open WebSockets on it. The
 * list comes from `allowedOrigins(config)`; both HTTP routes and upgrades check it here.
 */
import type { NextFunction, Request, Response } from 'express';

export interface Origins {
  any: boolean;
  list: ReadonlySet<string>;
}

export function originAllowed(origin: string | undefined, origins: Origins): boolean {
  // Non-browser clients send no Origin; browsers always do, and that is what the check is for.
  return origin === undefined || origins.any || origins.list.has(origin);
}

/** Lets the quiz page (another origin: the API server) call the match service. */
export function cors(origins: Origins) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const origin = req.headers.origin;
    // The answer depends on Origin whether or not this one is allowed: caches must know.
    res.vary('Origin');
    if (origin && (origins.any || origins.list.has(origin))) {
      res.set('Access-Control-Allow-Origin', origin);
      // Lets the page read how long to wait after a 503 CAPACITY.
      res.set('Access-Control-Expose-Headers', 'Retry-After');
      if (req.method === 'OPTIONS') {
        res.set('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        res.set('Access-Control-Allow-Headers', 'Content-Type, Authorization');
        res.set('Access-Control-Max-Age', '600');
        res.status(204).end();
        return;
      }
    }
    next();
  };
}
