import type { DBAdapterInstance } from 'better-auth/adapters';

export type SchemakitKey = string | Uint8Array;
export interface SchemakitAdapterOptions {
  /** pg.Pool (or anything with query()) connected as the app role set up by schemakit.grant_app(). */
  pool: { query: (text: string, values?: unknown[]) => Promise<{ rows: any[]; rowCount: number | null }> };
  /** 32 bytes (Buffer, 64 hex digits or base64): encrypts provider tokens, keys session references. */
  key: SchemakitKey;
  debugLogs?: boolean;
}
export declare function schemakitAdapter(options: SchemakitAdapterOptions): DBAdapterInstance;
/** storeOTP for the email-otp plugin: HMAC-SHA-256 under a key derived from the app key. */
export declare function schemakitOTPStorage(key: SchemakitKey): { hash: (otp: string) => Promise<string> };
export declare function parseKey(key: SchemakitKey): Buffer;
/** SHA-256 of the UTF-8 string, as schemakit._token_hash(token). */
export declare function tokenHash(token: string): Buffer;
