/**
 * The quiz schema (PROTOCOL.md `Quiz`, with Part 2's `kind` and `image`) and the built-in
 * catalog. Built-in quizzes are data files under `quizzes/`, validated by the same schema as
 * inline quizzes at start-up, so a broken file stops the server instead of a match.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { QUESTION_KINDS } from '../protocol/messages';
import { imageProblem } from './images';
import { isVisibleText } from './names';

/** Quiz text is shown to every player: the same invisible characters as in names are refused. */
const visibleText = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine(isVisibleText, 'must be visible text (no control characters, invisible fillers or odd spaces)');

/** Bounds that are settings (MAX_IMAGE_BYTES) rather than part of the quiz format. */
export interface QuizLimits {
  maxImageBytes: number;
}

function questionSchemaWith(limits: QuizLimits) {
  return z
    .object({
      text: visibleText(300),
      choices: z.array(visibleText(80)).min(2, 'needs 2 to 4 choices').max(4, 'needs 2 to 4 choices'),
      // Optional because a poll has none; every other kind must give it (below).
      correct: z.number().int().min(0).optional(),
      timeLimitSec: z.number().int().min(5).max(240),
      // PROTOCOL.md Part 2: absent means `choice`, v1's kind.
      kind: z.enum(QUESTION_KINDS).optional(),
      image: z.string().optional(),
    })
    .superRefine((q, ctx) => {
      const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
      if (q.kind === 'poll') {
        if (q.correct !== undefined) issue('correct', 'a poll has no correct answer: leave "correct" out');
      } else if (q.correct === undefined) {
        issue('correct', 'needs the index of the correct choice');
      } else if (q.correct >= q.choices.length) {
        issue('correct', 'correct must be the index of one of the choices');
      }
      if (q.kind === 'truefalse' && q.choices.length !== 2) issue('choices', 'a truefalse question has exactly 2 choices');
      const problem = q.image === undefined ? null : imageProblem(q.image, limits.maxImageBytes);
      if (problem) issue('image', problem);
    });
}

/** The quiz format with the image size bound of this server (POST /matches). */
export function quizSchemaWith(limits: QuizLimits) {
  return z.object({
    title: visibleText(100),
    questions: z.array(questionSchemaWith(limits)).min(1, 'needs 1 to 100 questions').max(100, 'needs 1 to 100 questions'),
  });
}

/**
 * The quiz format without a bound on image size: for quizzes already accepted (the catalog's,
 * and a live match's as it crosses a process boundary), which a lower MAX_IMAGE_BYTES set
 * since must not make unreadable.
 */
export const quizSchema = quizSchemaWith({ maxImageBytes: Number.POSITIVE_INFINITY });

export type Question = Quiz['questions'][number];
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

/**
 * One line naming each offending field, for error messages people read: a question is named
 * by its number as people count (`quiz.questions.2.image (question 3): …`).
 */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}${questionNumber(issue.path)}: ${issue.message}`)
    .join('; ');
}

function questionNumber(path: readonly PropertyKey[]): string {
  const at = path.indexOf('questions');
  const index = at >= 0 ? path[at + 1] : undefined;
  return typeof index === 'number' ? ` (question ${index + 1})` : '';
}
