import path from 'node:path';

/** The checkout this code runs from: where dist/, node_modules and quizzes/ are. */
export const ROOT = path.resolve(__dirname, '..', '..');
