/**
 * The quiz schema (PROTOCOL.md `Quiz`) and the built-in catalog. Built-in quizzes are data
 * files under `quizzes/`, validated by the same schema as inline quizzes at start-up, so a
 * broken file stops the server instead of a match.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isVisibleText } from './names';

/** Quiz text is shown to every player: the same invisible characters as in names are refused. */
const visibleText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(isVisibleText, 'must be visible text (no control characters, invisible fillers or odd spaces)');

export const questionSchema = z
  .object({
    text: visibleText(300),
    choices: z.array(visibleText(80)).min(2, 'needs 2 to 4 choices').max(4, 'needs 2 to 4 choices'),
    correct: z.number().int().min(0),
    timeLimitSec: z.number().int().min(5).max(240),
  })
  .refine((q) => q.correct < q.choices.length, {
    message: 'correct must be the index of one of the choices',
    path: ['correct'],
  });

export const quizSchema = z.object({
  title: visibleText(100),
  questions: z.array(questionSchema).min(1, 'needs 1 to 100 questions').max(100, 'needs 1 to 100 questions'),
});

export type Question = z.infer<typeof questionSchema>;
export type Quiz = z.infer<typeof quizSchema>;

const catalogEntrySchema = quizSchema.extend({
  id: z.string().regex(/^[a-z0-9-]{1,40}$/),
  description: z.string().max(300).default(''),
});

export type CatalogQuiz = z.infer<typeof catalogEntrySchema>;

/** What anyone may see of a catalog quiz: never its answers. */
export interface QuizSummary {
  id: string;
  title: string;
  description: string;
  questionCount: number;
}

export class QuizCatalog {
  private constructor(private readonly byId: ReadonlyMap<string, CatalogQuiz>) {}

  /** Reads and validates every `*.json` in `dir`; throws naming the file and the field. */
  static load(dir: string = defaultQuizDir()): QuizCatalog {
    const byId = new Map<string, CatalogQuiz>();
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const full = path.join(dir, file);
      let raw: unknown;
      try {
        raw = JSON.parse(readFileSync(full, 'utf8'));
      } catch (err) {
        throw new Error(`Quiz file ${full} is not valid JSON: ${(err as Error).message}`);
      }
      const parsed = catalogEntrySchema.safeParse(raw);
      if (!parsed.success) throw new Error(`Quiz file ${full} is invalid: ${describeZodError(parsed.error)}`);
      if (`${parsed.data.id}.json` !== file) throw new Error(`Quiz file ${full} must be named ${parsed.data.id}.json`);
      byId.set(parsed.data.id, parsed.data);
    }
    if (byId.size === 0) throw new Error(`No quizzes found in ${dir}`);
    return new QuizCatalog(byId);
  }

  get(id: string): Quiz | undefined {
    const entry = this.byId.get(id);
    return entry && { title: entry.title, questions: entry.questions };
  }

  list(): QuizSummary[] {
    return [...this.byId.values()].map((q) => ({
      id: q.id,
      title: q.title,
      description: q.description,
      questionCount: q.questions.length,
    }));
  }
}

export function defaultQuizDir(): string {
  // Same relative location from src/quiz and from dist/quiz.
  return path.resolve(__dirname, '..', '..', 'quizzes');
}

/** One line naming each offending field, for error messages people read. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
