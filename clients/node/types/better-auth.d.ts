/** @import { Where } from 'better-auth/adapters' */
/**
 * The app key: 32 bytes, as a Buffer/Uint8Array, 64 hex digits or base64(url).
 * @param {SchemakitKey} key
 * @returns {Buffer}
 */
export function parseKey(key: SchemakitKey): Buffer;
/**
 * SHA-256 of the UTF-8 string: what schemakit._token_hash(token) computes.
 * @param {string} token
 * @returns {Buffer}
 */
export function tokenHash(token: string): Buffer;
/**
 * storeOTP for better-auth's email-otp plugin: a keyed hash (HMAC-SHA-256
 * under a key derived from the app key), so a database copy cannot be
 * searched for the 10^6 six-digit codes without the key.
 * @param {SchemakitKey} key
 * @returns {{ hash: (otp: string) => Promise<string> }}
 */
export function schemakitOTPStorage(key: SchemakitKey): {
    hash: (otp: string) => Promise<string>;
};
/**
 * The app key: 32 bytes, as a Buffer/Uint8Array, 64 hex digits or base64(url).
 * @typedef {string | Uint8Array} SchemakitKey
 */
/**
 * Options of schemakitAdapter().
 * @typedef {object} SchemakitAdapterOptions
 * @property {{ query: (text: string, values?: unknown[]) => Promise<{ rows: any[], rowCount: number | null }> }} pool
 *   pg.Pool (or anything with query()) connected as the app role set up by schemakit.grant_app().
 * @property {SchemakitKey} key 32 bytes (Buffer, 64 hex digits or base64): encrypts provider tokens, keys session references.
 * @property {boolean} [debugLogs]
 */
/**
 * The adapter.  options: { pool (pg.Pool or anything with query()), key (32 bytes), debugLogs }.
 * Use with advanced.database.generateId: 'serial' (schemakit's ids are bigint identities).
 * @param {SchemakitAdapterOptions} options
 * @returns {import('better-auth/adapters').DBAdapterInstance}
 */
export function schemakitAdapter({ pool, key, debugLogs }: SchemakitAdapterOptions): import("better-auth/adapters").DBAdapterInstance;
/**
 * The app key: 32 bytes, as a Buffer/Uint8Array, 64 hex digits or base64(url).
 */
export type SchemakitKey = string | Uint8Array;
/**
 * Options of schemakitAdapter().
 */
export type SchemakitAdapterOptions = {
    /**
     *   pg.Pool (or anything with query()) connected as the app role set up by schemakit.grant_app().
     */
    pool: {
        query: (text: string, values?: unknown[]) => Promise<{
            rows: any[];
            rowCount: number | null;
        }>;
    };
    /**
     * 32 bytes (Buffer, 64 hex digits or base64): encrypts provider tokens, keys session references.
     */
    key: SchemakitKey;
    debugLogs?: boolean | undefined;
};
