import t from 'tap';
import { BoundedCache } from '../../src/runtime/bounded-cache.js';

t.test('drops its oldest entries past the limit and counts hits, misses and evictions', async (t) => {
  const cache = new BoundedCache<string, number>('test', 2);
  cache.set('a', 1);
  cache.set('b', 2);
  t.equal(cache.get('a'), 1);
  cache.set('a', 10); // set again: now the newest
  cache.set('c', 3);
  t.equal(cache.get('b'), undefined, 'b, the oldest, made room');
  t.equal(cache.get('a'), 10);
  t.equal(cache.get('c'), 3);
  t.same(cache.stats(), { name: 'test', size: 2, limit: 2, hits: 3, misses: 1, evictions: 1 });
  cache.delete('a');
  cache.clear();
  t.equal(cache.size, 0);
});

t.test('refuses a limit that is not a positive integer', async (t) => {
  for (const limit of [0, -1, 1.5, Number.NaN]) t.throws(() => new BoundedCache('bad', limit), RangeError);
});
