/*
 * code_key.c - the key email codes are hashed under, and where it comes
 * from: the file named by schemakit.code_key_file, read by the postmaster;
 * else the setting schemakit.code_hmac_key; else the per-database key in
 * schemakit._code_key, a table pg_dump does not copy.
 *
 * A key in a setting is in the open: ALTER SYSTEM writes it into
 * postgresql.auto.conf (and so into every base backup), a reload logs
 * "parameter ... changed to ..." with the value, and members of
 * pg_read_all_settings (every pg_monitor role) can SHOW it.  The key file is
 * read once, when the server starts with schemakit preloaded; the setting
 * holds only its path.  The file must be a regular file outside the data
 * directory, owned by the server's user and readable by nobody else (mode
 * 0600 or 0400); anything else stops the server from starting, with a
 * message that names the problem but never the key.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "citus.h"
#include "code_key.h"
#include "settings.h"

/* The key read at start, or NULL; in every backend by fork. */
static const char *file_key = NULL;

#define KEY_FILE_MAX_BYTES 1024

static bool
path_inside(const char *path, const char *dir)
{
	size_t		n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Called from _PG_init in the postmaster, when the file is configured. */
void
code_key_load_file(void)
{
	char	   *real;
	char	   *realdata;
	struct stat st;
	char		buf[KEY_FILE_MAX_BYTES + 2];
	int			fd;
	ssize_t		n;
	char	   *key;

	if (schemakit_code_key_file == NULL || schemakit_code_key_file[0] == '\0')
		return;
	/* realpath() with a NULL buffer: no fixed size to overrun. */
	real = realpath(schemakit_code_key_file, NULL);
	if (real == NULL)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("could not resolve schemakit.code_key_file \"%s\": %m",
						schemakit_code_key_file)));
	realdata = DataDir != NULL ? realpath(DataDir, NULL) : NULL;
	if (realdata != NULL && path_inside(real, realdata))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemakit.code_key_file \"%s\" is inside the data directory", real),
				 errdetail("A base backup copies the data directory, and the key with it."),
				 errhint("Keep the key file outside the data directory.")));
	fd = open(real, O_RDONLY | PG_BINARY, 0);
	if (fd < 0)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("could not open schemakit.code_key_file \"%s\": %m", real)));
	if (fstat(fd, &st) != 0)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("could not stat schemakit.code_key_file \"%s\": %m", real)));
	if (!S_ISREG(st.st_mode))
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemakit.code_key_file \"%s\" is not a regular file", real)));
	if (st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemakit.code_key_file \"%s\" must be owned by the server's user and have mode 0600 or 0400", real),
				 errdetail("It has owner %u and mode %04o.", (unsigned) st.st_uid,
						   (unsigned) (st.st_mode & 07777))));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		ereport(FATAL,
				(errcode_for_file_access(),
				 errmsg("could not read schemakit.code_key_file \"%s\": %m", real)));
	if (n > KEY_FILE_MAX_BYTES)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemakit.code_key_file \"%s\" is longer than %d bytes", real,
						KEY_FILE_MAX_BYTES)));
	/* Trailing newlines and carriage returns are not part of the key. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL || n < CODE_KEY_MIN_LEN)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemakit.code_key_file \"%s\" must hold a key of at least %d bytes and no NUL byte",
						real, CODE_KEY_MIN_LEN)));
	key = MemoryContextStrdup(TopMemoryContext, buf);
	explicit_bzero(buf, sizeof(buf));
	file_key = key;
	free(real);
	free(realdata);
}

/*
 * The server key wins over the per-database one, and is only trusted once
 * the library was preloaded: before that, any role could SHOW it.
 */
bool
code_key_from_server(const uint8 **key, size_t *keylen)
{
	bool		setting = schemakit_code_hmac_key != NULL && schemakit_code_hmac_key[0] != '\0';

	if (file_key != NULL)
	{
		if (setting)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("schemakit.code_hmac_key and schemakit.code_key_file are both set"),
					 errhint("Keep the key in the file only: remove schemakit.code_hmac_key.")));
		*key = (const uint8 *) file_key;
		*keylen = strlen(file_key);
		return true;
	}
	if (!setting)
		return false;
	if (!schemakit_preloaded)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schemakit.code_hmac_key is set but schemakit is not preloaded"),
				 errdetail("Until the library is loaded in a session, any role can read the key with SHOW."),
				 errhint("Add schemakit to shared_preload_libraries and restart the server.")));
	*key = (const uint8 *) schemakit_code_hmac_key;
	*keylen = strlen(schemakit_code_hmac_key);
	return true;
}

/* A per-database key that is missing or short is never used silently. */
void
code_key_check_database(const bytea *k, const uint8 **key, size_t *keylen)
{
	if (k == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no key to hash email codes with"),
				 errdetail("No server key is set and the per-database key is missing."),
				 errhint("Set schemakit.code_key_file in postgresql.conf.")));
	*key = (const uint8 *) VARDATA_ANY(k);
	*keylen = VARSIZE_ANY_EXHDR(k);
	if (*keylen < CODE_KEY_MIN_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("schemakit per-database code key is too short")));
}

/*
 * On Citus every node ran the extension's scripts and drew its own random
 * per-database key.  Once Citus manages email_codes, a code issued on one
 * node may be verified on another, so the key must be one: a server key (the
 * same file on every node) or _code_key as a reference table.  Otherwise a
 * right code would verify false on another node: refused instead.
 */
static void
same_key_on_every_node(void)
{
	Oid			nsp = get_namespace_oid("schemakit", true);
	Oid			codes = OidIsValid(nsp) ? get_relname_relid("email_codes", nsp) : InvalidOid;
	Oid			keys = OidIsValid(nsp) ? get_relname_relid("_code_key", nsp) : InvalidOid;
	bool		reference;

	if (!OidIsValid(codes) || !citus_manages(codes, &reference))
		return;
	if (OidIsValid(keys) && citus_manages(keys, &reference) && reference)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the per-database email-code key is not the same on every Citus node"),
			 errdetail("Citus manages schemakit.email_codes, but schemakit._code_key is not a reference table: each node has its own key, and a code issued on one node would not verify on another."),
			 errhint("Set schemakit.code_key_file to the same key file on every node, or make schemakit._code_key a reference table.")));
}

/*
 * The per-database key, read only when no server key is set.  The query
 * names one fully qualified table and calls no function or operator, so no
 * search_path can redirect it; it runs with the caller's rights (issue and
 * verify are SECURITY DEFINER, and EXECUTE on this helper is not PUBLIC's).
 */
bytea *
code_key_read_database(void)
{
	static SPIPlanPtr plan = NULL;
	MemoryContext caller = CurrentMemoryContext;
	bytea	   *k = NULL;

	if (citus_loaded())
		same_key_on_every_node();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare("SELECT k.key FROM schemakit._code_key k", 0, NULL);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (SPI_keepplan(p) != 0)
			elog(ERROR, "SPI_keepplan failed");
		plan = p;
	}
	if (SPI_execute_plan(plan, NULL, NULL, true, 2) != SPI_OK_SELECT)
		elog(ERROR, "reading schemakit._code_key failed");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			MemoryContext spi = MemoryContextSwitchTo(caller);

			k = DatumGetByteaPCopy(d);
			MemoryContextSwitchTo(spi);
		}
	}
	SPI_finish();
	return k;
}
