/** Latency percentiles in milliseconds, nearest-rank. */
export function percentiles(samples: readonly number[]): { p50: number; p95: number; p99: number; mean: number; count: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  return { p50: at(50), p95: at(95), p99: at(99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length, count: sorted.length };
}

export function formatMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

export function formatBytes(bytes: number): string {
  return bytes > 1 << 30 ? `${(bytes / (1 << 30)).toFixed(2)} GiB` : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}
