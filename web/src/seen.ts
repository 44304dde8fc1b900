// The seqs of the events a tab has handled, to drop repeats (delivery is at least once,
// specs/mqtt.md#delivery-guarantees). Bounded: a tab open for weeks sees millions of events.
// It keeps the highest `keep` seqs; every seq at or below the highest one it let go of (the
// floor) counts as seen. A repeat comes within the last reconnect's replay, far fewer events
// back than 10,000 of the user's own; an older event never seen is one the replay could not
// bring either. The seqs a user gets are sparse (only their devices' events), so "the highest
// contiguous seq" would not move: the floor is by count instead.
export const KEEP = 10_000;

export class SeenSeqs {
  private seqs = new Set<number>();
  private floor = -Infinity;
  private epoch: string | null = null; // the log the seqs belong to (the node's status)

  constructor(readonly keep: number = KEEP) {}

  /** True the first time `seq` comes (handle the event); false for a repeat. */
  add(seq: number): boolean {
    if (seq <= this.floor || this.seqs.has(seq)) return false;
    this.seqs.add(seq);
    // Trimmed in steps of a tenth: one sort per `keep / 10` events, not one per event.
    if (this.seqs.size > this.keep + Math.max(1, Math.floor(this.keep / 10))) this.trim();
    return true;
  }

  /** The node's log is `epoch` (its retained status, which may come live: with an external
   * broker the tab stays connected while the node restarts on a recreated log). True when it
   * is another log than before: its seqs start again, so the old ones are forgotten. */
  atEpoch(epoch: string): boolean {
    const changed = this.epoch !== null && this.epoch !== epoch;
    this.epoch = epoch;
    if (changed) this.clear();
    return changed;
  }

  /** Forget everything (the log was recreated: its seqs start again). */
  clear(): void {
    this.seqs.clear();
    this.floor = -Infinity;
  }

  get size(): number {
    return this.seqs.size;
  }

  private trim(): void {
    const sorted = Array.from(this.seqs).sort((a, b) => a - b);
    const drop = sorted.length - this.keep;
    this.floor = sorted[drop - 1] ?? this.floor;
    this.seqs = new Set(sorted.slice(drop));
  }
}
