/**
 * The one timer of a hosted match. The engine keeps its deadlines as timestamps in its state
 * and says which comes next; this turns that moment into a `setTimeout`, so a match never has
 * more than one timer armed however often its deadlines move.
 */
export class DeadlineTimer {
  private handle: NodeJS.Timeout | null = null;
  /** A deadline passed while the store was behind; run it once the store catches up. */
  deferred = false;
  private readonly onFire = (): void => {
    this.handle = null;
    this.fire();
  };

  constructor(
    private readonly clock: () => number,
    private readonly fire: () => void,
  ) {}

  /** Replaces whatever was armed: fires at `deadline` (a clock timestamp), or never for null. */
  arm(deadline: number | null): void {
    this.cancel();
    if (deadline === null) return;
    this.handle = setTimeout(this.onFire, Math.max(0, deadline - this.clock()));
  }

  cancel(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = null;
  }
}
