/*
 * schemakit.c - module entry point and the configuration parameters.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/guc.h"

#include "code_guard.h"
#include "code_key.h"
#include "compat.h"
#include "settings.h"

/* Exported even where the build hides symbols by default (compat.h). */
extern SK_EXPORT const Pg_magic_struct *PG_MAGIC_FUNCTION_NAME(void);
extern SK_EXPORT void _PG_init(void);

PG_MODULE_MAGIC;

char	   *schemakit_code_hmac_key = NULL;
char	   *schemakit_code_key_file = NULL;
int			schemakit_code_guard_size = 65536;
bool		schemakit_preloaded = false;

/*
 * The email code limits are read only by SQL, through current_setting().
 * Each default must agree with the SQL that reads the setting: the window's
 * 900 seconds with the fallback '900' of purge_expired(), which may run
 * before the library is loaded (sql/schemakit--1.4--1.5.sql); the issue limit
 * and verify limit with issue_email_code() and verify_email_code().
 */
static int	email_code_issue_limit = 5;
static int	email_code_verify_limit = 10;
static int	email_code_window = 900;

static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

#if PG_VERSION_NUM >= 150000
static shmem_request_hook_type prev_shmem_request_hook = NULL;

static void
schemakit_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	code_guard_request();
}
#endif

static void
schemakit_shmem_startup(void)
{
	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	code_guard_startup();
}

/*
 * The code-hashing key must not travel in a dump.  Settings made with
 * ALTER DATABASE/ROLE ... SET are stored in the catalog and come out of
 * pg_dumpall and pg_dump --create, so only postgresql.conf, ALTER SYSTEM,
 * the command line, or a superuser's own session may set it.  A short key
 * is refused: it would make the HMAC guessable.
 */
static bool
check_code_hmac_key(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (source == PGC_S_GLOBAL || source == PGC_S_DATABASE ||
		source == PGC_S_USER || source == PGC_S_DATABASE_USER ||
		source == PGC_S_TEST)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("schemakit.code_hmac_key cannot be set per database or per role");
		GUC_check_errdetail("Such settings are stored in the catalog and would travel in a dump.");
		GUC_check_errhint("Set it in postgresql.conf or with ALTER SYSTEM.");
		return false;
	}
	if (strlen(*newval) < CODE_KEY_MIN_LEN)
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("schemakit.code_hmac_key must be at least %d characters long",
						 CODE_KEY_MIN_LEN);
		GUC_check_errhint("Use a random value, e.g. the output of: openssl rand -hex 32");
		return false;
	}
	return true;
}

/*
 * Parameters are superuser-settable (PGC_SUSET): an application role must
 * not be able to lift its own issuance limits or read the key.
 */
void
_PG_init(void)
{
	/*
	 * Only a library loaded at server start defines its settings before any
	 * session runs; loaded later, a key from postgresql.conf sits in an
	 * unprotected placeholder that every role can SHOW until the load.
	 */
	schemakit_preloaded = process_shared_preload_libraries_in_progress;

	DefineCustomStringVariable("schemakit.code_hmac_key",
							   "Key for the HMAC under which email codes are stored.",
							   "Unset: a random per-database key that pg_dump does not copy is used.",
							   &schemakit_code_hmac_key,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   check_code_hmac_key, NULL, NULL);
	DefineCustomIntVariable("schemakit.email_code_issue_limit",
							"Most email codes issued for one address per window.",
							NULL,
							&email_code_issue_limit,
							5, 1, 1000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("schemakit.email_code_verify_limit",
							"Most failed code verifications for one address per window.",
							NULL,
							&email_code_verify_limit,
							10, 1, 10000,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("schemakit.email_code_window",
							"Length of the window the email code limits count over.",
							NULL,
							&email_code_window,
							900, 1, 86400,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	/*
	 * Settings read only at server start exist only when the library is
	 * preloaded (PostgreSQL refuses to define them later); loaded later,
	 * a value in postgresql.conf stays an inert placeholder.
	 */
	if (schemakit_preloaded)
	{
		DefineCustomStringVariable("schemakit.code_key_file",
								   "File holding the key for the HMAC under which email codes are stored.",
								   "Read once at server start; outside the data directory, mode 0600.",
								   &schemakit_code_key_file,
								   "",
								   PGC_POSTMASTER,
								   GUC_SUPERUSER_ONLY,
								   NULL, NULL, NULL);
		DefineCustomIntVariable("schemakit.code_guard_size",
								"Most live email codes whose failed guesses are counted in shared memory.",
								NULL,
								&schemakit_code_guard_size,
								65536, 1024, 16777216,
								PGC_POSTMASTER, 0,
								NULL, NULL, NULL);
	}
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("schemakit");
#else
	EmitWarningsOnPlaceholders("schemakit");
#endif

	if (!schemakit_preloaded)
		return;

	/* The postmaster reads the key file once; backends inherit the key. */
	code_key_load_file();

#if PG_VERSION_NUM >= 150000
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = schemakit_shmem_request;
#else
	code_guard_request();
#endif
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = schemakit_shmem_startup;
}
