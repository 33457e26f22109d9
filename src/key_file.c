/*
 * key_file.c - schemakit.code_key_file: the code key, read from a file by
 * the postmaster.
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

#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/memutils.h"

#include "schemakit.h"

char	   *schemakit_code_key_file = NULL;

/* The key read at start, or NULL; in every backend by fork. */
const char *schemakit_file_key = NULL;

#define KEY_FILE_MAX_BYTES 1024

static bool
path_inside(const char *path, const char *dir)
{
	size_t		n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Called from _PG_init in the postmaster, when the file is configured. */
void
schemakit_load_key_file(void)
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
	/* One trailing newline (or CR LF) is not part of the key. */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL || n < SCHEMAKIT_MIN_KEY_LEN)
		ereport(FATAL,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schemakit.code_key_file \"%s\" must hold a key of at least %d bytes and no NUL byte",
						real, SCHEMAKIT_MIN_KEY_LEN)));
	key = MemoryContextStrdup(TopMemoryContext, buf);
	explicit_bzero(buf, sizeof(buf));
	schemakit_file_key = key;
	free(real);
	free(realdata);
}
