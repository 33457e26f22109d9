export * from "./schema.js";
export * from "./functions.js";
export * from "./errors.js";
