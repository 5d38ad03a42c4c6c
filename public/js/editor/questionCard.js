/**
 * One question of the editor: its text, kind, answers (and which is right), time limit and
 * picture, with buttons to move it up or down and to delete it. Typing changes the draft in
 * place (no re-render, so the caret stays); changes of shape (kind, number of answers,
 * picture, order) go through `ed.replace`/`ed.move`/`ed.remove`, which re-render and put
 * the focus back on the control named by its `data-focus` key.
 */
import { h } from '../dom.js';
import { CHOICE_MARKS } from '../screens/common.js';
import { canAddChoice, canRemoveChoice, MAX_TIME_SEC, MIN_TIME_SEC, withKind, withoutChoice } from './draft.js';
import { imageField } from './imageField.js';

const KIND_LABELS = {
  choice: 'Multiple choice',
  truefalse: 'True or false',
  poll: 'Poll (no right answer)',
};
const LIMITS = { text: 300, choice: 80 };

/**
 * @param q the question (edited in place by typing)
 * @param index its position; `count` how many there are
 * @param ed {changed(), replace(q, focusKey), move(from, to, focusKey), remove(index), images, maxImageBytes}
 */
export function questionCard(q, index, count, ed) {
  const n = index + 1;
  const key = (control) => `${q.id}:${control}`;
  const idFor = (control) => `${q.id}-${control}`;

  const up = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-ghost',
      disabled: index === 0,
      'aria-label': `Move question ${n} up`,
      dataset: { testid: `question-up-${index}`, focus: key('up') },
      on: { click: () => ed.move(index, index - 1, key(index - 1 === 0 ? 'down' : 'up')) },
    },
    h('span', { 'aria-hidden': 'true' }, '↑'),
    ' Up',
  );
  const down = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-ghost',
      disabled: index === count - 1,
      'aria-label': `Move question ${n} down`,
      dataset: { testid: `question-down-${index}`, focus: key('down') },
      on: { click: () => ed.move(index, index + 1, key(index + 1 === count - 1 ? 'up' : 'down')) },
    },
    h('span', { 'aria-hidden': 'true' }, '↓'),
    ' Down',
  );
  const remove = h(
    'button',
    {
      type: 'button',
      class: 'btn btn-small btn-danger',
      disabled: count === 1,
      'aria-label': `Delete question ${n}`,
      dataset: { testid: `question-delete-${index}`, focus: key('delete') },
      on: { click: () => ed.remove(index) },
    },
    'Delete',
  );

  const text = h('textarea', {
    id: idFor('text'),
    class: 'input input-question',
    rows: '2',
    maxlength: String(LIMITS.text),
    dataset: { testid: `question-text-${index}`, focus: key('text') },
    value: q.text,
    on: {
      input: (e) => {
        q.text = e.target.value;
        ed.changed();
      },
    },
  });

  const kind = h(
    'select',
    {
      id: idFor('kind'),
      class: 'input',
      dataset: { testid: `question-kind-${index}`, focus: key('kind') },
      on: { change: (e) => ed.replace(withKind(q, e.target.value), key('kind')) },
    },
    Object.entries(KIND_LABELS).map(([value, label]) => h('option', { value, selected: value === q.kind }, label)),
  );

  const time = h('input', {
    id: idFor('time'),
    type: 'number',
    class: 'input input-narrow',
    min: String(MIN_TIME_SEC),
    max: String(MAX_TIME_SEC),
    step: '1',
    inputmode: 'numeric',
    'aria-describedby': idFor('time-hint'),
    dataset: { testid: `question-time-${index}`, focus: key('time') },
    value: q.timeLimitSec ?? '',
    on: {
      input: (e) => {
        const raw = e.target.value.trim();
        q.timeLimitSec = raw === '' || !Number.isFinite(Number(raw)) ? null : Number(raw);
        ed.changed();
      },
    },
  });

  return h(
    'li',
    { class: ['card', 'editor-question', `kind-${q.kind}`], dataset: { testid: `question-${index}`, kind: q.kind } },
    h(
      'div',
      { class: 'editor-question-head' },
      h('h2', { class: 'editor-question-number' }, `Question ${n}`),
      h('div', { class: 'button-row editor-question-tools', role: 'group', 'aria-label': `Question ${n}: order` }, up, down, remove),
    ),
    h('label', { for: idFor('text') }, 'Question'),
    text,
    h('label', { for: idFor('kind') }, 'Kind'),
    kind,
    choicesField(q, index, n, ed, key),
    h('label', { for: idFor('time') }, 'Time to answer (seconds)'),
    time,
    h('p', { id: idFor('time-hint'), class: 'hint' }, `${MIN_TIME_SEC} to ${MAX_TIME_SEC} seconds.`),
    imageField(q, index, n, ed, key),
  );
}

function choicesField(q, index, n, ed, key) {
  const poll = q.kind === 'poll';
  const rows = q.choices.map((choice, j) => {
    const mark = CHOICE_MARKS[j];
    return h(
      'div',
      { class: ['editor-choice', `choice-tint-${j}`] },
      poll
        ? null
        : h('input', {
            type: 'radio',
            name: `${q.id}-correct`,
            class: 'editor-correct',
            'aria-label': `Answer ${j + 1} is the right one`,
            checked: q.correct === j,
            dataset: { testid: `correct-${index}-${j}`, focus: key(`correct-${j}`) },
            on: {
              change: () => {
                q.correct = j;
                ed.changed();
              },
            },
          }),
      h('span', { class: 'editor-choice-shape', 'aria-hidden': 'true' }, mark.shape),
      h('input', {
        type: 'text',
        class: 'input',
        maxlength: String(LIMITS.choice),
        'aria-label': `Question ${n}, answer ${j + 1} (${mark.label})`,
        dataset: { testid: `choice-${index}-${j}`, focus: key(`choice-${j}`) },
        value: choice,
        on: {
          input: (e) => {
            q.choices[j] = e.target.value;
            ed.changed();
          },
        },
      }),
      canRemoveChoice(q)
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-ghost',
              'aria-label': `Remove answer ${j + 1}`,
              dataset: { testid: `choice-remove-${index}-${j}` },
              on: { click: () => ed.replace(withoutChoice(q, j), key(`choice-${Math.max(0, j - 1)}`)) },
            },
            '✕',
          )
        : null,
    );
  });
  const add = canAddChoice(q)
    ? h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small btn-ghost',
          dataset: { testid: `choice-add-${index}`, focus: key('add-choice') },
          on: { click: () => ed.replace({ ...q, choices: [...q.choices, ''] }, key(`choice-${q.choices.length}`)) },
        },
        '+ Add an answer',
      )
    : null;
  const hint =
    q.kind === 'truefalse'
      ? 'Pick the right one. (You may reword True and False.)'
      : poll
        ? '2 to 4 answers. Nobody is right or wrong; nobody scores.'
        : '2 to 4 answers; pick the right one.';
  return h(
    'fieldset',
    { class: 'editor-choices' },
    h('legend', {}, 'Answers'),
    h('p', { class: 'hint' }, hint),
    rows,
    add,
  );
}
