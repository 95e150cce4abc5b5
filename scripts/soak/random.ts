/** The soak's random choices (kind, key, method, size, variant): a thin layer over `Math.random`. */
export interface Random {
  /** In [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  /** A key of `weights`, each with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K;
}

export const random: Random = {
  next: Math.random,
  between: (min, max) => min + Math.floor(Math.random() * (max - min + 1)),
  pick: (items) => items[Math.floor(Math.random() * items.length)] as (typeof items)[number],
  weighted(weights) {
    const entries = (Object.entries(weights) as [keyof typeof weights, number][]).filter(([, weight]) => weight > 0);
    let left = Math.random() * entries.reduce((sum, [, weight]) => sum + weight, 0);
    for (const [key, weight] of entries) {
      left -= weight;
      if (left < 0) return key;
    }
    return entries[entries.length - 1]?.[0] as keyof typeof weights;
  },
};
