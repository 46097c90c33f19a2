// What a pack indexer keeps of inflated content for the deltas still to come: results of deltas
// (a chain's next link starts from them) and bases that were used (a base often serves several).
// Whole objects are not kept on arrival: in a pack of mostly whole objects that would copy them all
// for nothing. Bounded in bytes, oldest dropped first; a base out of it is inflated again.
export class DeltaBaseCache {
  private readonly entries = new Map<number, Buffer>();
  private bytes = 0;

  constructor(private readonly limit: number) {}

  get(entry: number): Buffer | undefined {
    return this.entries.get(entry);
  }

  remember(entry: number, content: Buffer): void {
    // One object over an eighth of the budget would push out everything else.
    if (content.length > this.limit / 8) return;
    this.entries.set(entry, content);
    this.bytes += content.length;
    // Map iteration order is insertion order: drop the oldest first.
    for (const [k, v] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(k);
      this.bytes -= v.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
