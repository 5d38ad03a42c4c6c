/**
 * The error catalog (src/protocol/errors.ts) against the project's protocol document
 * (docs/PROTOCOL.md): every code a client can receive is documented there with the same
 * status, `Retry-After` and close code, and v1's codes are all still here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLOSE, CLOSE_REASONS, HTTP_ERRORS, HttpError, WS_ERROR_MESSAGES } from '../../src/protocol/errors';

const doc = readFileSync(path.resolve(__dirname, '../../docs/PROTOCOL.md'), 'utf8');
const [v1, additions] = doc.split('# Part 2: additions to v1');

/** Table rows (`| a | b |`) of the section that starts with `heading`. */
function tableRows(text: string, heading: string): string[][] {
  const start = text.indexOf(heading);
  expect(start, `section "${heading}"`).toBeGreaterThan(-1);
  const rows: string[][] = [];
  for (const line of text.slice(start).split('\n').slice(1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|') || /^\|[-| ]+\|$/.test(line)) continue;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows.slice(1); // header
}

describe('error catalog ↔ docs/PROTOCOL.md', () => {
  it('keeps v1 word for word (Part 1 is the shared contract)', () => {
    expect(v1).toContain('Codes: `BAD_MESSAGE` (not JSON, not an object, wrong field types),');
    expect(v1).toContain('503 `CAPACITY` (with a `Retry-After` header) when every worker that may exist is full.');
    expect(additions).toBeDefined();
  });

  it('has exactly the WebSocket error codes that v1 lists and Part 2 adds, each with a text for people', () => {
    const para = v1!.slice(v1!.indexOf('Codes: `BAD_MESSAGE`'), v1!.indexOf('A bad message never changes'));
    const v1Codes = [...para.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!);
    const added = tableRows(additions!, '## WebSocket error codes beyond v1').map(([code]) => code!.replace(/`/g, ''));
    expect(added.length).toBeGreaterThan(0);
    // An addition is new: Part 2 never re-lists (and so never redefines) a v1 code.
    for (const code of added) expect(v1Codes).not.toContain(code);
    expect(new Set(Object.keys(WS_ERROR_MESSAGES))).toEqual(new Set([...v1Codes, ...added]));
    for (const text of Object.values(WS_ERROR_MESSAGES)) expect(text).toMatch(/^[A-Z].+\.$/);
  });

  it('answers v1’s HTTP codes with v1’s statuses, CAPACITY with Retry-After', () => {
    const v1Statuses: Record<string, number> = { BAD_REQUEST: 400, NOT_FOUND: 404, TOO_LARGE: 413, CAPACITY: 503 };
    for (const [code, status] of Object.entries(v1Statuses)) {
      expect(v1).toContain(`${status} \`${code}\``);
      expect(new HttpError(code as keyof typeof HTTP_ERRORS).status).toBe(status);
    }
    expect(new HttpError('CAPACITY').headers()['Retry-After']).toMatch(/^\d+$/);
  });

  it('documents every HTTP error the catalog can answer, with its status and Retry-After', () => {
    const rows = tableRows(additions!, 'Error codes beyond v1');
    const documented = new Set(rows.map(([status, code, , retry]) => `${status} ${code!.replace(/`/g, '')} ${retry ?? ''}`));
    for (const spec of Object.values(HTTP_ERRORS)) {
      const retry = 'retryAfterSec' in spec ? String(spec.retryAfterSec) : '';
      const v1Only = spec.code === 'BAD_REQUEST' || spec.code === 'TOO_LARGE';
      if (v1Only) continue; // v1's table above says these
      expect(documented, `${spec.status} ${spec.code} Retry-After ${retry}`).toContain(`${spec.status} ${spec.code} ${retry}`);
    }
  });

  it('gives every error a body in the protocol’s shape', () => {
    for (const kind of Object.keys(HTTP_ERRORS) as (keyof typeof HTTP_ERRORS)[]) {
      const err = new HttpError(kind);
      expect(err.body()).toEqual({ error: { code: err.code, message: expect.stringMatching(/\S/) } });
      expect(err.status).toBeGreaterThanOrEqual(400);
    }
    expect(new HttpError('BAD_REQUEST', 'Give exactly one of "quizId" or "quiz".').body().error.message).toBe(
      'Give exactly one of "quizId" or "quiz".',
    );
  });

  it('documents every close code with the reason text the service sends', () => {
    const rows = tableRows(additions!, '## Close codes');
    const byCode = new Map(rows.map(([code, reason]) => [Number(code), reason!.replace(/`/g, '')]));
    for (const code of Object.values(CLOSE)) expect(byCode.has(code), `close code ${code}`).toBe(true);
    for (const [code, reason] of Object.entries(CLOSE_REASONS)) expect(byCode.get(Number(code))).toBe(reason);
    // Ours are in the private range and unique.
    const ours = Object.values(CLOSE).filter((c) => c >= 4000);
    expect(ours.every((c) => c < 5000)).toBe(true);
    expect(new Set(Object.values(CLOSE)).size).toBe(Object.values(CLOSE).length);
  });
});
