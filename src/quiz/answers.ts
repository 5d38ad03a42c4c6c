/**
 * A player's answer to the current question: checked against PROTOCOL.md's rules (refused
 * while the question's intro runs), scored on arrival (the points formula is in `scoring.ts`;
 * scores themselves change at the reveal), acknowledged, and counted for everyone.
 */
import { closeQuestionIfAllAnswered } from './phases';
import { pointsFor } from './scoring';
import { findPlayer, recordAnswer } from './rosterIndex';
import { type Done, type Effect, type Failure, HOST_ID, type MatchSnapshot, type ParticipantId, fail } from './state';
import { answerCount } from './views';

export function answer(s: MatchSnapshot, by: ParticipantId, questionIndex: number, choice: number, now: number): Done | Failure {
  if (by === HOST_ID) return fail('NOT_JOINED');
  const player = findPlayer(s, by);
  if (!player || player.left) return fail('NOT_JOINED');
  if (questionIndex !== s.questionIndex || s.phase === 'lobby') return fail('WRONG_QUESTION');
  const question = s.quiz.questions[questionIndex];
  if (!question) return fail('WRONG_QUESTION');
  // The suspense moment: the question is known but not open; nothing is recorded.
  if (s.phase === 'intro') return fail('QUESTION_NOT_OPEN');
  if (!Number.isInteger(choice) || choice < 0 || choice >= question.choices.length) return fail('BAD_MESSAGE');

  const previous = s.answers[by];
  if (previous) {
    // A retry (after a reconnect, say) is acknowledged again, even after the question
    // closed, so the client learns its answer counted; a different choice is refused.
    if (previous.choice !== choice) return fail('ALREADY_ANSWERED');
    return { ok: true, effects: [{ kind: 'send', to: by, msg: { type: 'answer_ack', questionIndex, choice } }] };
  }
  if (s.phase !== 'question' || s.questionStartsAt === null || s.phaseEndsAt === null || now >= s.phaseEndsAt) {
    return fail('QUESTION_CLOSED');
  }
  // A poll has no correct answer (`correct` is absent), so every answer to it scores 0.
  recordAnswer(s, player, {
    choice,
    receivedAt: now,
    points: pointsFor(question.correct !== undefined && choice === question.correct, now, s.questionStartsAt, s.phaseEndsAt - s.questionStartsAt),
  }, now);
  s.revision++;
  const effects: Effect[] = [
    { kind: 'send', to: by, msg: { type: 'answer_ack', questionIndex, choice } },
    { kind: 'broadcast', msg: answerCount(s, now) },
  ];
  effects.push(...closeQuestionIfAllAnswered(s, now));
  return { ok: true, effects };
}
