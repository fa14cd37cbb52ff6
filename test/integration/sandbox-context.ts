/**
 * What the integration global setup provides to every integration test: one running sandbox
 * (real MariaDB legacy source and target), started in a temporary folder for this test run.
 */
export interface SandboxEndpoint {
  host: string
  port: number
  user: string
  password: string
  database: string
}

export interface SandboxTestInfo {
  dir: string
  configPath: string
  source: SandboxEndpoint
  target: SandboxEndpoint
}

declare module 'vitest' {
  export interface ProvidedContext {
    sandbox: SandboxTestInfo
  }
}
