// Container HEALTHCHECK: exits 0 when the server in this container answers `path` with 200.
// Usage: node deploy/healthcheck.cjs [/livez|/readyz|/healthz]. /healthz is the API server's
// (API_PORT), the others the match service's (MATCH_PORT). No curl in the slim image: Node's
// own fetch, with a timeout shorter than the HEALTHCHECK's.
'use strict';
const path = process.argv[2] || '/livez';
const port = path === '/healthz' ? process.env.API_PORT || '3000' : process.env.MATCH_PORT || '3001';
fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) }).then(
  (res) => process.exit(res.status === 200 ? 0 : 1),
  (err) => {
    process.stderr.write(`healthcheck ${path} on port ${port}: ${err.message}\n`);
    process.exit(1);
  },
);
