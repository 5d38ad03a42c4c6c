/**
 * A question's optional picture: one of the images shipped with the built-in quizzes (by
 * bare file name, served under /quiz-images/), or a picture file from the device (kept as
 * a `data:` URL, js/editor/imageFile.js), or none.
 */
import { h } from '../dom.js';
import { imageFromFile, IMAGE_TYPES, kb } from './imageFile.js';

const OWN = '__own';

export function imageField(q, index, n, ed, key) {
  const id = `${q.id}-image`;
  const own = typeof q.image === 'string' && q.image.startsWith('data:');
  const shipped = q.image && !own ? q.image : '';
  const note = h('p', { class: 'hint', id: `${id}-note`, role: 'status', dataset: { testid: `question-image-note-${index}` } });

  const names = [...ed.images];
  if (shipped && !names.includes(shipped)) names.push(shipped); // named by an imported file
  const select =
    names.length > 0 || own
      ? h(
          'select',
          {
            id,
            class: 'input',
            dataset: { testid: `question-image-${index}`, focus: key('image') },
            on: { change: (e) => ed.replace({ ...q, image: e.target.value === OWN ? q.image : e.target.value || null }, key('image')) },
          },
          h('option', { value: '', selected: !q.image }, 'No picture'),
          own ? h('option', { value: OWN, selected: true }, 'My picture (from a file)') : null,
          names.map((name) => h('option', { value: name, selected: name === shipped }, `Built-in: ${name}`)),
        )
      : null;

  const file = h('input', {
    type: 'file',
    accept: IMAGE_TYPES.join(','),
    class: 'visually-hidden',
    dataset: { testid: `question-image-file-${index}`, focus: key('image-file') },
    on: { change: (e) => void onFile(e.target) },
  });

  async function onFile(input) {
    const picked = input.files?.[0];
    if (!picked) return;
    note.textContent = 'Reading the picture…';
    const result = await imageFromFile(picked, ed.maxImageBytes);
    if (!result.ok) {
      note.className = 'field-error';
      note.textContent = result.message;
      input.value = '';
      return;
    }
    ed.replace({ ...q, image: result.dataUrl }, key('image-file'), result.shrunk ? `The picture was made smaller to fit (${kb(result.dataUrl.length)}).` : '');
  }

  const preview = q.image
    ? h('img', {
        class: 'editor-image-preview',
        src: own ? q.image : `/quiz-images/${encodeURIComponent(q.image)}`,
        alt: `Picture for question ${n}`,
        dataset: { testid: `question-image-preview-${index}` },
      })
    : null;

  return h(
    'div',
    { class: 'editor-image' },
    select ? h('label', { for: id }, 'Picture ', h('span', { class: 'optional' }, '(optional)')) : h('p', { class: 'editor-image-label' }, 'Picture ', h('span', { class: 'optional' }, '(optional)')),
    select,
    h(
      'div',
      { class: 'button-row' },
      h('label', { class: 'btn btn-small btn-ghost editor-file-button' }, file, own ? 'Choose another picture file…' : 'Choose a picture file…'),
      q.image
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-ghost',
              dataset: { testid: `question-image-remove-${index}` },
              on: { click: () => ed.replace({ ...q, image: null }, key('image-file')) },
            },
            'Remove picture',
          )
        : null,
    ),
    preview,
    note,
    h('p', { class: 'hint' }, `PNG, JPEG or WebP; bigger pictures are made smaller to fit ${kb(ed.maxImageBytes)}.`),
  );
}
