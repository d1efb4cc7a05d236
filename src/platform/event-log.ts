/**
 * The harness's event log: one line per event, for a terminal (`text`) or for a log collector
 * (`json`: one JSON object a line, with its time, level and event name, and the event's fields).
 */
export type LogLevel = 'info' | 'warn' | 'error';

export interface EventLog {
  /** One event: `message` for a reader, `fields` for a machine (a JSON log carries both). */
  (event: string, message: string, fields?: Record<string, unknown>, level?: LogLevel): void;
}

/** Writes events to `write` (stderr by default) in the given format. */
export function createEventLog(format: 'text' | 'json', write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): EventLog {
  if (format === 'text') return (_event, message, _fields, level = 'info') => write(level === 'info' ? message : `${level}: ${message}`);
  return (event, message, fields = {}, level = 'info') => write(JSON.stringify({ time: new Date().toISOString(), level, event, message, ...fields }));
}

/** An event log over a plain line logger (what `cutover up` and the main job hand around). */
export function lineEventLog(log: (line: string) => void): EventLog {
  return (_event, message, _fields, level = 'info') => log(level === 'info' ? message : `${level}: ${message}`);
}
