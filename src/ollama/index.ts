/** The Ollama stand-in and the probe that decides whether it is needed. */
export { ensureOllama, probeOllama, type EnsuredOllama } from './ensure.js';
export { startOllamaStandin, DEFAULT_MODELS, STANDIN_HEADER, STANDIN_VERSION, type OllamaStandin, type OllamaStandinOptions } from './standin-server.js';
export { fromJson, type ReceivedRequest, type ReceivedRequestJson } from './standin-log.js';
export type { FaultSpec } from './standin-faults.js';
