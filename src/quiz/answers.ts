/**
 * A player's answer to the current question: checked against PROTOCOL.md's rules, scored
 * on arrival (the points formula is in `scoring.ts`; scores themselves change at the reveal),
 * acknowledged, and counted for everyone.
 */
import { closeQuestionIfAllAnswered } from './phases';
import { pointsFor } from './scoring';
import { type Done, type Effect, type Failure, HOST_ID, type MatchSnapshot, type ParticipantId, fail, findPlayer } from './state';
import { answerCount } from './views';

export function answer(s: MatchSnapshot, by: ParticipantId, questionIndex: number, choice: number, now: number): Done | Failure {
  if (by === HOST_ID) return fail('NOT_JOINED');
  const player = findPlayer(s, by);
  if (!player || player.left) return fail('NOT_JOINED');
  if (questionIndex !== s.questionIndex || s.phase === 'lobby') return fail('WRONG_QUESTION');
  const question = s.quiz.questions[questionIndex];
  if (!question) return fail('WRONG_QUESTION');
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
  s.answers[by] = {
    choice,
    receivedAt: now,
    points: pointsFor(choice === question.correct, now, s.questionStartsAt, s.phaseEndsAt - s.questionStartsAt),
  };
  s.revision++;
  const effects: Effect[] = [
    { kind: 'send', to: by, msg: { type: 'answer_ack', questionIndex, choice } },
    { kind: 'broadcast', msg: answerCount(s, now) },
  ];
  effects.push(...closeQuestionIfAllAnswered(s, now));
  return { ok: true, effects };
}
