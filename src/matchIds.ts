import { randomInt } from 'node:crypto';

/** PROTOCOL.md: join codes are 6 characters from this alphabet (no 0/O, 1/I). */
export const MATCH_ID_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const MATCH_ID_PATTERN = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{6}$/;

/** A fresh join code not in use; `isTaken` checks the live matches. */
export function newMatchId(isTaken: (id: string) => boolean): string {
  for (let attempt = 0; attempt < 1000; attempt++) {
    let id = '';
    for (let i = 0; i < 6; i++) id += MATCH_ID_ALPHABET[randomInt(MATCH_ID_ALPHABET.length)];
    if (!isTaken(id)) return id;
  }
  // 32^6 ≈ 10^9 codes: reaching this means the live set is absurdly large.
  throw new Error('Could not find a free match id');
}
