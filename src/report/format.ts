/** How the report's numbers read, the same in markdown and HTML. */
export const formatRate = (rate: number | null) => (rate === null ? 'n/a' : `${(rate * 100).toFixed(rate === 1 ? 0 : 1)}%`);
export const formatMs = (ms: number | null) => (ms === null ? '-' : ms < 10 ? ms.toFixed(2) : ms.toFixed(1));
export const formatRatio = (ratio: number | null) => (ratio === null ? '-' : `${ratio.toFixed(2)}×`);
export const formatMode = (mode: string | null, observed: readonly string[]) => (mode ?? (observed.join('/') || '-'));
/** Diff values are JSON text that may be long; the report shows their start. */
export const clip = (text: string | null, max = 120) => (text === null ? '(absent)' : text.length > max ? `${text.slice(0, max)}…` : text);
