/** Names and quiz text: what is visible, and which names collide. */
import { describe, expect, it } from 'vitest';
import { isVisibleText, nameKey, validName } from '../../src/quiz/names';
import { quizSchema } from '../../src/quiz/quizzes';

describe('validName', () => {
  it.each(['Ann', 'Zoë', '李雷', '🎉', 'Ann Lee', 'x'.repeat(20), '  padded  '])('accepts %j', (name) => {
    expect(validName(name)).toBe(name.trim());
  });

  it.each([
    ['empty', ''],
    ['spaces only', '   '],
    ['too long', 'x'.repeat(21)],
    ['Hangul filler U+3164', '\u3164'],
    ['Hangul choseong filler U+115F', '\u115F'],
    ['Hangul jungseong filler U+1160', '\u1160'],
    ['half-width Hangul filler U+FFA0', '\uFFA0'],
    ['Braille blank U+2800', '\u2800'],
    ['a filler inside a name', 'Ann\u3164'],
    ['zero-width space', 'A\u200bB'],
    ['right-to-left override', '\u202eAnn'],
    ['no-break space posing as a space', 'Ann\u00a0Lee'],
    ['a control character', 'Ann\u0007'],
    ['a newline', 'Ann\nLee'],
    ['combining marks only', '\u0301\u0301'],
  ])('refuses %s', (_what, name) => {
    expect(validName(name)).toBeNull();
  });
});

describe('nameKey: look-alike names collide', () => {
  it.each([
    ['Ann', 'ANN'],
    ['Ann', 'Ａｎｎ'], // full-width
    ['strasse', 'STRAẞE'],
    ['straße', 'STRASSE'],
    ['ﬁsh', 'fish'], // ligature
    ['Zoë', 'Zoe\u0308'], // composed and decomposed
    ['Ⅸ', 'IX'], // roman numeral
  ])('%j and %j', (a, b) => {
    expect(nameKey(a)).toBe(nameKey(b));
  });

  it('keeps different names apart', () => {
    expect(nameKey('Ann')).not.toBe(nameKey('Anne'));
    expect(nameKey('Zoë')).not.toBe(nameKey('Zoe'));
  });
});

describe('quiz text', () => {
  const quiz = (text: string) => ({ title: 'T', questions: [{ text, choices: ['a', 'b'], correct: 0, timeLimitSec: 10 }] });
  it('refuses control characters and invisible fillers in quiz text', () => {
    expect(quizSchema.safeParse(quiz('Which one?')).success).toBe(true);
    expect(quizSchema.safeParse(quiz('\u3164')).success).toBe(false);
    expect(quizSchema.safeParse(quiz('Which\u0000one?')).success).toBe(false);
    expect(isVisibleText('<img src=x onerror=alert(1)>')).toBe(true); // shown as text, never as HTML
  });
});
