/** What the contract suite is pointed at. The same tests run against legacy or the reimplementation. */
export type Target = 'legacy' | 'reimpl';

export interface PlatformUnderTest {
  target: Target;
  databaseUrl: string;
  gatewayUrl: string;
  syncUrl: string;
  narratorUrl: string;
  ollamaUrl: string;
  exportDir: string;
  /** The JWT key both gateways share, so tests can mint tokens (tampered, expired...). */
  jwtSecretKey: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    platform: PlatformUnderTest;
  }
}
