// @ts-check
/** schemakit: Drizzle tables, typed function wrappers and error classes for the schemakit extension. */
export * from './schema.js';
export * from './functions.js';
export * from './errors.js';
