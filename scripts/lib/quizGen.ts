/**
 * Generates inline quizzes for load runs: short arithmetic questions with four distinct
 * numeric choices (so message sizes resemble a real quiz), the correct one at a random
 * position. The generator keeps the answer key, so simulated players can aim to be right.
 */
import { randomInt } from './util';
import type { InlineQuiz } from './wire';

export function generateQuiz(questions: number, timeLimitSec: number, title = 'Load test quiz'): InlineQuiz {
  const out: InlineQuiz['questions'] = [];
  for (let i = 0; i < questions; i++) {
    const a = 2 + randomInt(90);
    const b = 2 + randomInt(90);
    const answer = a + b;
    const values = new Set<number>([answer]);
    // Bounded: at most 50 draws for 3 distinct distractors from a range of 20 values.
    for (let tries = 0; values.size < 4 && tries < 50; tries++) {
      const delta = 1 + randomInt(10);
      values.add(Math.random() < 0.5 ? answer + delta : Math.max(0, answer - delta));
    }
    const choices = [...values].map(String);
    // Move the correct answer (first) to a random slot.
    const correct = randomInt(choices.length);
    [choices[0], choices[correct]] = [choices[correct]!, choices[0]!];
    out.push({ text: `Question ${i + 1}: what is ${a} + ${b}?`, choices, correct, timeLimitSec });
  }
  return { title, questions: out };
}
