/* luksinit-enroll: derived keyslots, so that /init opens every member of
 * a multi-disk LUKS root in the time of one KDF (see luksinit-enroll(8)).
 *
 *   luksinit-enroll [--key-file FILE] PRIMARY MEMBER...
 *   luksinit-enroll --list DEVICE [PRIMARY]
 *   luksinit-enroll --remove DEVICE...
 *
 * Exit status 0 only if everything asked for was done; 1 if not (and then
 * no header was left changed); 2 for a usage error. */
#include <libcryptsetup.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backupdir.h"
#include "common/secret.h"
#include "enrol.h"
#include "passin.h"
#include "unenrol.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: luksinit-enroll [--key-file FILE] PRIMARY MEMBER...\n"
		"       luksinit-enroll --list DEVICE [PRIMARY]\n"
		"       luksinit-enroll --remove DEVICE...\n");
	return 2;
}

static int run_enrol(const char *keyfile, char *const args[], int n,
		     const char *tmpdir)
{
	char prompt[512];
	snprintf(prompt, sizeof(prompt),
		 "Passphrase for %s and its %d member%s: ", args[0], n - 1,
		 n == 2 ? "" : "s");
	struct secret pass = {0};
	int rc = passin_read(&pass, keyfile, prompt);
	if (rc == 0)
		rc = enrol(args[0], args + 1, n - 1, &pass, tmpdir);
	secret_free(&pass);
	return rc;
}

int main(int argc, char **argv)
{
	const char *keyfile = NULL;
	int i = 1;
	enum { ENROL, LIST, REMOVE } mode = ENROL;
	if (i < argc && strcmp(argv[i], "--list") == 0) {
		mode = LIST;
		i++;
	} else if (i < argc && strcmp(argv[i], "--remove") == 0) {
		mode = REMOVE;
		i++;
	} else if (i + 1 < argc && strcmp(argv[i], "--key-file") == 0) {
		keyfile = argv[i + 1];
		i += 2;
	}
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	int n = argc - i;
	if ((mode == LIST && (n < 1 || n > 2)) || (mode == REMOVE && n < 1) ||
	    (mode == ENROL && n < 2))
		return usage();
	for (int k = i; k < argc; k++)
		if (argv[k][0] == '-' && argv[k][1] != '\0')
			return usage();
	if (mode == LIST)
		return list_derived(argv[i], n == 2 ? argv[i + 1] : NULL) == 0
			       ? 0
			       : 1;
	char tmpdir[4096];
	if (backupdir_make(tmpdir, sizeof(tmpdir)) < 0)
		return 1;
	int rc = mode == REMOVE ? remove_derived(argv + i, n, tmpdir)
				: run_enrol(keyfile, argv + i, n, tmpdir);
	/* Left in place only if it still holds a backup that could not be
	 * restored (then it was named above). */
	rmdir(tmpdir);
	return rc == 0 ? 0 : 1;
}
