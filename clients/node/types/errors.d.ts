/**
 * The PostgreSQL error inside err (err itself, or a `cause` chain as Drizzle
 * builds it), or undefined when there is none.
 * @param {unknown} err
 */
export function pgErrorOf(err: unknown): any;
/**
 * err as a SchemakitError subclass when it carries a SQLSTATE; any other
 * error (a network error, a bug) is returned unchanged.
 * @param {unknown} err
 * @returns {unknown}
 */
export function toSchemakitError(err: unknown): unknown;
/**
 * Typed errors for the SQLSTATEs schemakit raises (doc/schemakit.md#sqlstates).
 *
 * Every wrapper in this package rethrows a PostgreSQL error as one of these
 * classes; `toSchemakitError(err)` does the same for errors of your own
 * queries (a Drizzle insert into schemakit.users that hits users_email_key,
 * say).  Drizzle 0.44+ wraps driver errors in DrizzleQueryError; the
 * PostgreSQL error is its `cause`, and toSchemakitError looks there too.
 *
 *   try { await issueEmailCode(db, email) }
 *   catch (e) { if (e instanceof TooManyCodesError) ... }
 */
/** Base class: any PostgreSQL error passed through this package. */
export class SchemakitError extends Error {
    /**
     * @param {string} message
     * @param {{ sqlstate?: string, detail?: string, hint?: string, constraint?: string,
     *           table?: string, column?: string, schema?: string, cause?: unknown }} [info]
     */
    constructor(message: string, info?: {
        sqlstate?: string;
        detail?: string;
        hint?: string;
        constraint?: string;
        table?: string;
        column?: string;
        schema?: string;
        cause?: unknown;
    });
    /** The five-character SQLSTATE, e.g. '23505'. */
    sqlstate: string;
    /** Same as sqlstate, under the name node-postgres uses. */
    code: string;
    /** @type {string | undefined} */
    detail: string | undefined;
    /** @type {string | undefined} */
    hint: string | undefined;
    /** @type {string | undefined} The constraint that failed (23505, 23503, 23514). */
    constraint: string | undefined;
    /** @type {string | undefined} */
    table: string | undefined;
    /** @type {string | undefined} */
    column: string | undefined;
    /** @type {string | undefined} */
    schema: string | undefined;
}
/** 22023 invalid_parameter_value: an argument out of range (bad ttl, size, email, provider...). */
export class InvalidArgumentError extends SchemakitError {
}
/** 22004 null_value_not_allowed: a NULL where a value is required. */
export class NullArgumentError extends SchemakitError {
}
/**
 * 23503 foreign_key_violation: unknown user (user_id / owner_id); for the
 * organization functions also an unknown organization, or a user who is not
 * a member (setMemberRole).
 */
export class UnknownUserError extends SchemakitError {
}
/**
 * 23505 unique_violation: duplicate username/email_key/public_id/filename, an
 * OAuth account linked to another user, a taken organization slug, or a user
 * who is already a member (inviteMember, acceptInvitation).
 */
export class UniqueViolationError extends SchemakitError {
}
/** 23514 check_violation: a CHECK constraint of a schemakit table (lengths, email form, MIME type form). */
export class CheckViolationError extends SchemakitError {
}
/**
 * 42501 insufficient_privilege: the role lacks a grant (run schemakit.grant_app);
 * or, from the organization functions, the acting user may not do this (a
 * member inviting, an admin touching an owner, a non-member), or the
 * invitation was sent to another address than the accepting user's.
 */
export class PermissionDeniedError extends SchemakitError {
}
/** 55000 object_not_in_prerequisite_state: no usable code key, a refused downgrade, a tampered sessions table. */
export class PrerequisiteStateError extends SchemakitError {
}
/** 53400 configuration_limit_exceeded: the shared-memory guess counter is full; the guess was not judged. Retry later. */
export class CodeGuardFullError extends SchemakitError {
}
/** Base of the two email-code limits. */
export class RateLimitError extends SchemakitError {
}
/** SKR01: too many email codes issued for this address in the window. */
export class TooManyCodesError extends RateLimitError {
}
/** SKR02: too many failed code verifications for this address in the window. */
export class TooManyFailedVerificationsError extends RateLimitError {
}
/** Base of SKR10 to SKR13: why an invitation cannot be accepted (or revoked). */
export class InvitationError extends SchemakitError {
}
/** SKR10: unknown invitation (no invitation has this token or id: never issued, purged, or its organization deleted). */
export class UnknownInvitationError extends InvitationError {
}
/** SKR11: the invitation expired. */
export class InvitationExpiredError extends InvitationError {
}
/** SKR12: the invitation was revoked, or replaced by a newer one to the same address. */
export class InvitationRevokedError extends InvitationError {
}
/** SKR13: the invitation was already accepted (also the loser of two concurrent acceptances). */
export class InvitationAcceptedError extends InvitationError {
}
/** SKR14: the change would leave the organization without an owner. */
export class LastOwnerError extends SchemakitError {
}
/** SQLSTATE -> class.  Anything else becomes a plain SchemakitError. */
export const ERROR_CLASSES: Readonly<{
    '22023': typeof InvalidArgumentError;
    '22004': typeof NullArgumentError;
    '23503': typeof UnknownUserError;
    '23505': typeof UniqueViolationError;
    '23514': typeof CheckViolationError;
    '42501': typeof PermissionDeniedError;
    '55000': typeof PrerequisiteStateError;
    '53400': typeof CodeGuardFullError;
    SKR01: typeof TooManyCodesError;
    SKR02: typeof TooManyFailedVerificationsError;
    SKR10: typeof UnknownInvitationError;
    SKR11: typeof InvitationExpiredError;
    SKR12: typeof InvitationRevokedError;
    SKR13: typeof InvitationAcceptedError;
    SKR14: typeof LastOwnerError;
}>;
