// A map with a limit, for the caches on request paths: it drops its oldest entry to make room,
// and counts what it is asked, so `/metrics` shows each cache's size, hit rate and evictions
// (`mir_cache_*`). Nothing on a request path grows without bound, and a cache too small for its
// load shows as evictions rather than as latency nobody can explain.

export interface CacheStats {
  readonly name: string;
  readonly size: number;
  /** Entries held at most; undefined for a cache bounded by bytes alone. */
  readonly limit: number | undefined;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
  /** For a cache bounded by the bytes it holds: those bytes and the bound. */
  readonly bytes?: number;
  readonly limitBytes?: number;
}

export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(
    readonly name: string,
    readonly limit: number,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`cache ${name}: limit must be a positive integer`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) this.misses++;
    else this.hits++;
    return value;
  }

  /** Stores `value`, dropping the oldest entries (by insertion) past the limit. */
  set(key: K, value: V): V {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.limit) {
      this.map.delete(this.map.keys().next().value as K);
      this.evictions++;
    }
    return value;
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  stats(): CacheStats {
    return { name: this.name, size: this.map.size, limit: this.limit, hits: this.hits, misses: this.misses, evictions: this.evictions };
  }
}
