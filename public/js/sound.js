/**
 * Game sounds, made in the page with Web Audio (no audio files, nothing fetched): a gentle
 * lobby loop, a tick in each of a question's last five seconds, a sting when the answer is
 * revealed, a fanfare for the podium.
 *
 * Browsers only let a page make sound after the person has interacted with it, so the
 * AudioContext is created on the first click, tap or key press (the host's "Start" click
 * counts) and never before. Whether sound is on is the person's choice, remembered in
 * localStorage; by default the host's screen (the one the room listens to) plays sound and
 * players' phones do not.
 *
 * The root element carries `data-sound` (off | waiting | on), `data-sound-music` (the loop
 * playing, or none) and `data-sound-cue` (the last cue played), so the state can be seen in
 * tests and devtools.
 */

const STORE_KEY = 'quizrush.sound';
const MASTER_VOLUME = 0.5;
const MUSIC_VOLUME = 0.12;
/** The music is scheduled this far ahead of the audio clock, refilled on a timer. */
const LOOKAHEAD_S = 0.4;
const SCHEDULER_MS = 120;

let on = false;
let context = null;
let master = null;
let musicBus = null;
let music = { name: null, timer: null, nextAt: 0, step: 0 };

function readPreference() {
  try {
    return localStorage.getItem(STORE_KEY);
  } catch {
    return null;
  }
}

function writePreference(value) {
  try {
    localStorage.setItem(STORE_KEY, value);
  } catch {
    /* storage disabled: the choice lasts until the page closes */
  }
}

function publish(cue) {
  const root = document.documentElement.dataset;
  root.sound = !on ? 'off' : context?.state === 'running' ? 'on' : 'waiting';
  root.soundMusic = music.timer ? music.name : 'none';
  if (cue) root.soundCue = cue;
}

/** The stored choice, or `defaultOn` for someone who never chose. */
export function configureSound({ defaultOn }) {
  const stored = readPreference();
  on = stored === null ? defaultOn : stored === 'on';
  applyVolume();
  // Someone who has already clicked or typed on this page (the host's "Create match") may
  // hear sound now; browsers allow it then. Otherwise the next gesture starts it.
  if (on && navigator.userActivation?.hasBeenActive) unlockSound();
  publish();
}

export function soundOn() {
  return on;
}

/** The mute toggle. Called from its click, so it may also start the audio. */
export function setSoundOn(value) {
  on = Boolean(value);
  writePreference(on ? 'on' : 'off');
  applyVolume();
  if (on) unlockSound();
  else stopMusicLoop();
  publish();
}

/**
 * Creates (or resumes) the AudioContext. Only ever called from a user gesture's handler,
 * which is what browsers require before a page may play sound.
 */
export function unlockSound() {
  if (!on) return;
  if (!context) {
    const AudioCtx = window.AudioContext ?? window.webkitAudioContext;
    if (!AudioCtx) return;
    try {
      context = new AudioCtx();
    } catch {
      return;
    }
    master = context.createGain();
    master.connect(context.destination);
    musicBus = context.createGain();
    musicBus.gain.value = MUSIC_VOLUME;
    musicBus.connect(master);
    applyVolume();
    context.addEventListener('statechange', () => {
      if (context.state === 'running' && music.name && !music.timer) startMusicLoop();
      publish();
    });
  }
  if (context.state === 'suspended') void context.resume().catch(() => {});
  if (music.name && !music.timer) startMusicLoop();
  publish();
}

/** Listens for the first gestures: any click, tap or key may start the audio. */
export function unlockOnGesture() {
  for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, unlockSound, { capture: true });
}

/** 'lobby' while in the lobby, null otherwise. */
export function setMusic(name) {
  if (music.name === name) return;
  stopMusicLoop();
  music.name = name;
  if (name) startMusicLoop();
  publish();
}

/** 'intro' | 'tick' | 'lastTick' | 'reveal' | 'fanfare'; silent when sound is off or not started. */
export function playCue(name) {
  if (!ready()) return;
  const cue = CUES[name];
  if (!cue) return;
  cue(context.currentTime + 0.01);
  publish(name);
}

function ready() {
  return on && context !== null && context.state === 'running';
}

function applyVolume() {
  if (!master) return;
  master.gain.setTargetAtTime(on ? MASTER_VOLUME : 0, context.currentTime, 0.02);
}

// ---- instruments -----------------------------------------------------------------------

const midi = (n) => 440 * 2 ** ((n - 69) / 12);

/** One note: an oscillator through an attack/decay envelope (optionally a low-pass filter). */
function note(at, { freq, dur, type = 'triangle', gain = 0.3, attack = 0.01, filter, to = master, glideTo }) {
  const osc = context.createOscillator();
  osc.type = type;
  osc.frequency.setValueAtTime(freq, at);
  if (glideTo) osc.frequency.exponentialRampToValueAtTime(glideTo, at + dur);
  const env = context.createGain();
  env.gain.setValueAtTime(0.0001, at);
  env.gain.exponentialRampToValueAtTime(gain, at + attack);
  env.gain.exponentialRampToValueAtTime(0.0001, at + dur);
  let chain = osc;
  if (filter) {
    const lp = context.createBiquadFilter();
    lp.type = 'lowpass';
    lp.frequency.value = filter;
    osc.connect(lp);
    chain = lp;
  }
  chain.connect(env);
  env.connect(to);
  osc.start(at);
  osc.stop(at + dur + 0.05);
}

const CUES = {
  // A soft rising "get ready" while the question waits to open.
  intro: (t) => note(t, { freq: midi(60), glideTo: midi(72), dur: 0.6, type: 'sine', gain: 0.2, attack: 0.2 }),
  // A short wooden click; the last second is higher so the end is audible.
  tick: (t) => note(t, { freq: 1400, dur: 0.06, type: 'square', gain: 0.12, filter: 3000 }),
  lastTick: (t) => note(t, { freq: 2000, dur: 0.09, type: 'square', gain: 0.16, filter: 4000 }),
  // Up an arpeggio to a bright chord.
  reveal: (t) => {
    [67, 72, 76].forEach((n, i) => note(t + i * 0.07, { freq: midi(n), dur: 0.25, gain: 0.22 }));
    for (const n of [72, 76, 79, 84]) note(t + 0.21, { freq: midi(n), dur: 0.9, gain: 0.12, type: 'sawtooth', filter: 2200 });
  },
  // Ta-ta-ta-taaa, then the chord.
  fanfare: (t) => {
    const brass = { type: 'sawtooth', filter: 2400, gain: 0.18 };
    const line = [
      [67, 0, 0.14],
      [67, 0.15, 0.14],
      [67, 0.3, 0.14],
      [72, 0.45, 0.5],
      [69, 0.98, 0.16],
      [72, 1.15, 0.16],
      [76, 1.32, 1.2],
    ];
    for (const [n, start, dur] of line) note(t + start, { ...brass, freq: midi(n), dur });
    for (const n of [60, 64, 67]) note(t + 1.32, { freq: midi(n), dur: 1.4, gain: 0.1, type: 'triangle' });
  },
};

// ---- the lobby loop --------------------------------------------------------------------

const BEAT_S = 60 / 92 / 2; // eighth notes at 92 bpm
/** C – Am – F – G, one bar of arpeggio each: [bass, ...arpeggio notes] in MIDI numbers. */
const PROGRESSION = [
  [48, 60, 64, 67, 72],
  [45, 57, 60, 64, 69],
  [41, 57, 60, 65, 69],
  [43, 55, 59, 62, 67],
];
const ARP = [1, 2, 3, 4, 3, 2, 1, 2];

function startMusicLoop() {
  if (!ready() || music.timer || music.name !== 'lobby') return;
  music.nextAt = context.currentTime + 0.1;
  music.step = 0;
  music.timer = setInterval(scheduleMusic, SCHEDULER_MS);
  scheduleMusic();
  publish();
}

function stopMusicLoop() {
  if (!music.timer) return;
  clearInterval(music.timer);
  music.timer = null;
  publish();
}

function scheduleMusic() {
  if (!ready()) {
    stopMusicLoop();
    return;
  }
  while (music.nextAt < context.currentTime + LOOKAHEAD_S) {
    const chord = PROGRESSION[Math.floor(music.step / 8) % PROGRESSION.length];
    const i = music.step % 8;
    note(music.nextAt, { freq: midi(chord[ARP[i]]), dur: BEAT_S * 1.6, gain: 0.35, type: 'triangle', to: musicBus });
    if (i === 0) note(music.nextAt, { freq: midi(chord[0]), dur: BEAT_S * 7, gain: 0.5, type: 'sine', attack: 0.05, to: musicBus });
    music.nextAt += BEAT_S;
    music.step++;
  }
}
